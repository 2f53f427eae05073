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
