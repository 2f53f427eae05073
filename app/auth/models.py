from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow

TOKEN_SCOPES = ("all",)


class ApiKey(Base):
    """An API token. Only the SHA-256 of its secret half is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("scope IN ('all')", name="scope"),
        Index("ix_api_keys_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    hashed_secret: Mapped[bytes] = mapped_column(LargeBinary(32))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(32), default="all")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:
        return f"<ApiKey id={self.id} user_id={self.user_id} scope={self.scope}>"
