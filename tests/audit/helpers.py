"""Shared helpers of the audit tests: audit rows written directly, and raw-text searches."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Connection, Engine, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from app.audit.models import AuditLog

BASE_TIME = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def insert_audit_row(
    session: Session,
    *,
    time: dt.datetime = BASE_TIME,
    action: str = "write",
    resource_type: str = "user",
    user_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    target: str = "",
    row_id: uuid.UUID | None = None,
) -> AuditLog:
    """Add an audit row with a chosen time, bypassing record_change, and flush it."""
    row = AuditLog(
        id=row_id or uuid.uuid4(),
        time=time,
        user_id=user_id,
        api_key_id=None,
        ip="127.0.0.1",
        user_agent="pytest",
        request_id=uuid.uuid4().hex,
        action=action,
        resource_type=resource_type,
        resource_id=str(uuid.uuid4()),
        resource_target=target,
        resource_owner_id=owner_id,
        organization_id=None,
        status_code={"create": 201, "write": 200, "delete": 204}[action],
        diff={},
        additional_fields={},
    )
    session.add(row)
    session.flush()
    return row


def audit_rows(engine: Engine) -> list[AuditLog]:
    """Return every audit row, oldest first."""
    with Session(engine) as session:
        return list(session.scalars(select(AuditLog).order_by(AuditLog.time, AuditLog.id)))


def count_audit_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(AuditLog)) or 0


def audit_rows_containing(connection: Connection, text: str) -> int:
    """Count audit rows where any column, cast to text by the database, contains `text`.

    The cast happens in SQL, so JSON columns are searched as stored (text on SQLite,
    jsonb rendered by PostgreSQL), not as SQLAlchemy would decode them.
    """
    pattern = "%" + text + "%"
    conditions = [
        cast(column, Text).like(literal(pattern)) for column in AuditLog.__table__.columns
    ]
    statement = select(func.count()).select_from(AuditLog).where(or_(*conditions))
    return connection.scalar(statement) or 0
