"""Writing audit rows: called by the data layer inside the transaction of the change."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.audit.fields import AUDITED_FIELDS
from app.audit.models import AuditLog
from app.db.base import Base, utcnow

Snapshot = Mapping[str, Any]
# HTTP status of each successful change, recorded with its audit row.
STATUS_BY_ACTION = {"create": 201, "write": 200, "delete": 204}


@dataclass(frozen=True)
class AuditContext:
    """The actor and client of a change, the same for every change of one request."""

    user_id: uuid.UUID | None
    api_key_id: str | None
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


# Changes made by an operator through the CLI, outside any request.
CLI_CONTEXT = AuditContext(user_id=None, api_key_id=None, user_agent="usersecrets-cli")


def snapshot(obj: Base) -> dict[str, Any]:
    """Return the column values of a model instance, for a later diff."""
    mapper = inspect(type(obj))
    return {column.key: getattr(obj, column.key) for column in mapper.column_attrs}


def audit_diff(model: type[Base], old: Snapshot | None, new: Snapshot | None) -> dict[str, Any]:
    """Diff two snapshots by the model's field classes; only changed columns appear.

    `old` is None for a create and `new` is None for a delete. A column without a class
    is left out, and a class other than tracked or ignored is treated as secret, so a
    mistake in AUDITED_FIELDS hides a value instead of recording it.
    """
    classes = AUDITED_FIELDS[model]
    diff: dict[str, Any] = {}
    for column, field_class in classes.items():
        if field_class == "ignored":
            continue
        before = None if old is None else old.get(column)
        after = None if new is None else new.get(column)
        if before == after:
            continue
        if field_class == "tracked":
            diff[column] = {"old": _jsonable(before), "new": _jsonable(after)}
        else:
            diff[column] = {"old": "", "new": "", "secret": True}
    return diff


def record_change(
    session: Session,
    context: AuditContext,
    *,
    action: str,
    model: type[Base],
    resource_id: str,
    target: str = "",
    owner_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    old: Snapshot | None = None,
    new: Snapshot | None = None,
    additional_fields: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Add one audit row for a change to the session, in the change's own transaction."""
    row = AuditLog(
        id=uuid.uuid4(),
        time=utcnow(),
        user_id=context.user_id,
        api_key_id=context.api_key_id,
        ip=context.ip[:64],
        user_agent=context.user_agent[:512],
        request_id=context.request_id[:64],
        action=action,
        resource_type=_resource_type(model),
        resource_id=resource_id,
        resource_target=target[:256],
        resource_owner_id=owner_id,
        organization_id=organization_id,
        status_code=STATUS_BY_ACTION[action],
        diff=audit_diff(model, old, new),
        additional_fields=dict(additional_fields or {}),
    )
    session.add(row)
    session.flush()
    return row


_RESOURCE_TYPES: dict[str, str] = {
    "users": "user",
    "site_role_assignments": "site_role_assignment",
    "organizations": "organization",
    "organization_members": "organization_member",
    "api_keys": "api_key",
    "user_secrets": "user_secret",
}
# Every value of the audit_logs.resource_type column, in the order of the table above.
RESOURCE_TYPES: tuple[str, ...] = tuple(_RESOURCE_TYPES.values())


def _resource_type(model: type[Base]) -> str:
    return _RESOURCE_TYPES[str(model.__tablename__)]


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
