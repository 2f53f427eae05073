from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow

USER_STATUSES = ("active", "suspended")
SITE_ROLES = ("owner", "auditor", "user-admin")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Usernames are unique whatever their case, so "Alice" cannot shadow "alice".
        Index("uq_users_username_lower", func.lower("username"), unique=True),
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<User id={self.id} username={self.username!r} status={self.status}>"


class SiteRoleAssignment(Base):
    """One site role assigned to one user. Every active user also has `member` implicitly."""

    __tablename__ = "site_role_assignments"
    __table_args__ = (CheckConstraint("role IN ('owner', 'auditor', 'user-admin')", name="role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
