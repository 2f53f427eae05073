"""Typed results of SDK calls, parsed from the server's JSON.

Each `from_json` raises KeyError, TypeError or ValueError on a malformed object; the
client turns those into an APIError.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def parse_time(value: Any) -> dt.datetime:
    """Parse an RFC 3339 timestamp as the server writes it (ISO 8601 with an offset)."""
    if not isinstance(value, str):
        raise TypeError(f"expected a timestamp string, got {type(value).__name__}")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return parsed


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key}: expected a string, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class User:
    """A user account as `GET /api/v2/users/{user}` returns it."""

    id: uuid.UUID
    username: str
    email: str
    status: str
    site_roles: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        roles = data["site_roles"]
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise TypeError("site_roles: expected a list of strings")
        return cls(
            id=uuid.UUID(_string(data, "id")),
            username=_string(data, "username"),
            email=_string(data, "email"),
            status=_string(data, "status"),
            site_roles=tuple(roles),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
        )


@dataclass(frozen=True)
class Secret:
    """A secret's metadata. The API never returns a value, so this type has none.

    `version` increases with every change; pass it as `if_version` to update or delete
    only the version you read. It is None when the response carried no version, which
    is the case for list items from a server that omits `version` from the metadata.
    """

    id: uuid.UUID
    name: str
    description: str
    env_name: str
    file_path: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], version: int | None = None) -> Secret:
        """Build a Secret from metadata; `version` (from the ETag) wins over the body's."""
        if version is None and data.get("version") is not None:
            body_version = data["version"]
            if not isinstance(body_version, int) or isinstance(body_version, bool):
                raise TypeError("version: expected an integer")
            version = body_version
        return cls(
            id=uuid.UUID(_string(data, "id")),
            name=_string(data, "name"),
            description=_string(data, "description"),
            env_name=_string(data, "env_name"),
            file_path=_string(data, "file_path"),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            version=version,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the metadata as a JSON-ready dict, timestamps in ISO 8601."""
        return {
            "id": str(self.id),
            "name": self.name,
            "description": self.description,
            "env_name": self.env_name,
            "file_path": self.file_path,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _optional_string(data: Mapping[str, Any], key: str) -> str | None:
    value = data[key]
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key}: expected a string or null, got {type(value).__name__}")
    return value


def _optional_uuid(data: Mapping[str, Any], key: str) -> uuid.UUID | None:
    value = _optional_string(data, key)
    return None if value is None else uuid.UUID(value)


def _object(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data[key]
    if not isinstance(value, dict):
        raise TypeError(f"{key}: expected an object, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class AuditLog:
    """One audited change, as `GET /api/v2/audit-logs` returns it.

    `user_id` and `username` name the actor. Both are None for a change made through
    the operator CLI, and `username` alone is None once the actor's account is deleted.
    `diff` maps each changed column to {"old", "new"}. A secret column appears as
    {"old": "", "new": "", "secret": true}, so the value itself is never in a diff.
    """

    id: uuid.UUID
    time: dt.datetime
    user_id: uuid.UUID | None
    username: str | None
    api_key_id: str | None
    ip: str
    user_agent: str
    request_id: str
    action: str
    resource_type: str
    resource_id: str
    resource_target: str
    resource_owner_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    status_code: int
    diff: dict[str, Any]
    additional_fields: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditLog:
        status_code = data["status_code"]
        if not isinstance(status_code, int) or isinstance(status_code, bool):
            raise TypeError("status_code: expected an integer")
        return cls(
            id=uuid.UUID(_string(data, "id")),
            time=parse_time(data["time"]),
            user_id=_optional_uuid(data, "user_id"),
            username=_optional_string(data, "username"),
            api_key_id=_optional_string(data, "api_key_id"),
            ip=_string(data, "ip"),
            user_agent=_string(data, "user_agent"),
            request_id=_string(data, "request_id"),
            action=_string(data, "action"),
            resource_type=_string(data, "resource_type"),
            resource_id=_string(data, "resource_id"),
            resource_target=_string(data, "resource_target"),
            resource_owner_id=_optional_uuid(data, "resource_owner_id"),
            organization_id=_optional_uuid(data, "organization_id"),
            status_code=status_code,
            diff=_object(data, "diff"),
            additional_fields=_object(data, "additional_fields"),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the row as a JSON-ready dict in the server's shape."""
        return {
            "id": str(self.id),
            "time": self.time.isoformat(),
            "user_id": None if self.user_id is None else str(self.user_id),
            "username": self.username,
            "api_key_id": self.api_key_id,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
            "action": self.action,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "resource_target": self.resource_target,
            "resource_owner_id": (
                None if self.resource_owner_id is None else str(self.resource_owner_id)
            ),
            "organization_id": None if self.organization_id is None else str(self.organization_id),
            "status_code": self.status_code,
            "diff": self.diff,
            "additional_fields": self.additional_fields,
        }


@dataclass(frozen=True)
class AuditLogPage:
    """One page of audit rows, newest first.

    `next_after` is the cursor of the next page, to pass as `after`, or None on the
    last page.
    """

    audit_logs: list[AuditLog]
    next_after: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditLogPage:
        rows = data["audit_logs"]
        if not isinstance(rows, list):
            raise TypeError(f"audit_logs: expected a list, got {type(rows).__name__}")
        return cls(
            audit_logs=[AuditLog.from_json(row) for row in rows],
            next_after=_optional_string(data, "next_after"),
        )
