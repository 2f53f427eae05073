from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow

AUDIT_ACTIONS = ("create", "write", "delete")

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class AuditLog(Base):
    """One audited change. The actor and owner ids carry no foreign key on purpose,
    so the record outlives the users it names."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        CheckConstraint("action IN ('create', 'write', 'delete')", name="action"),
        Index("ix_audit_logs_time_id", "time", "id"),
        Index("ix_audit_logs_user_id", "user_id"),
        Index("ix_audit_logs_resource_owner_id", "resource_owner_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    api_key_id: Mapped[str | None] = mapped_column(String(16), default=None)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(16))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(64))
    resource_target: Mapped[str] = mapped_column(String(256), default="")
    resource_owner_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    status_code: Mapped[int] = mapped_column(Integer)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    additional_fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    def __repr__(self) -> str:
        return (
            f"<AuditLog id={self.id} action={self.action} "
            f"resource_type={self.resource_type} resource_id={self.resource_id}>"
        )
