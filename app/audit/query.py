"""Parameters of an audit log query: parsing, validation and the page cursor.

Everything here is checked before it reaches a database, because PostgreSQL rejects
some strings (a NUL character) that SQLite accepts, and an error there would be a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.audit.errors import InvalidAuditQuery
from app.audit.models import AUDIT_ACTIONS
from app.audit.recorder import RESOURCE_TYPES
from app.users.validation import could_be_username, parse_uuid

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
QUERY_PARAMETERS = (
    "actor",
    "resource_type",
    "action",
    "target_user",
    "since",
    "until",
    "limit",
    "after",
)

# RFC 3339 date-time: the time-offset is required. RFC 3339 allows a lowercase t and z,
# and a space between date and time. Fractions past microseconds are cut off.
_RFC3339_RE = re.compile(
    r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<offset_hour>[0-9]{2}):(?P<offset_minute>[0-9]{2}))$"
)
# An unknown parameter is named in the error only when it looks like a parameter name.
# Anything else (very long, control characters) is reported under this placeholder.
_PARAMETER_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
UNRECOGNIZED_PARAMETER_NAME = "<unrecognized parameter name>"
_LIMIT_RE = re.compile(r"^[0-9]{1,4}$")
# A cursor is far shorter than this; anything longer is rejected before decoding.
_MAX_CURSOR_LENGTH = 128
_CURSOR_RE = re.compile(r"^(?P<micros>[0-9]{1,20}):(?P<id>[0-9a-f]{32})$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """The position after the last row of a page: that row's (time, id).

    Rows are ordered newest first, by time and then by id, so the next page contains the
    rows that sort after this pair.
    """

    time: dt.datetime
    id: uuid.UUID


@dataclass(frozen=True)
class AuditLogQuery:
    """A validated audit log query.

    `actor` and `target_user` are user references still to be resolved: `me`, a
    username, or a user id. A user id stays valid after its user is deleted.
    `since` is inclusive and `until` exclusive.
    """

    actor: str | None = None
    resource_type: str | None = None
    action: str | None = None
    target_user: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = DEFAULT_LIMIT
    after: Cursor | None = None


def encode_cursor(cursor: Cursor) -> str:
    """Encode a cursor as an opaque URL-safe string for `next_after`."""
    delta = cursor.time.astimezone(dt.UTC) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raw = f"{micros}:{cursor.id.hex}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> Cursor | None:
    """Decode a string from `encode_cursor`, or return None when it is not one."""
    if len(text) > _MAX_CURSOR_LENGTH or not text.isascii():
        return None
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    match = _CURSOR_RE.fullmatch(raw)
    if match is None:
        return None
    try:
        time = _EPOCH + dt.timedelta(microseconds=int(match["micros"]))
    except OverflowError:
        return None
    return Cursor(time=time, id=uuid.UUID(hex=match["id"]))


def parse_rfc3339(text: str) -> dt.datetime | None:
    """Parse an RFC 3339 date-time into an aware UTC datetime, or return None."""
    match = _RFC3339_RE.fullmatch(text)
    if match is None:
        return None
    microsecond = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    offset = dt.timedelta(0)
    if match["utc"] is None:
        hours, minutes = int(match["offset_hour"]), int(match["offset_minute"])
        if hours > 23 or minutes > 59:
            return None
        offset = dt.timedelta(hours=hours, minutes=minutes)
        if match["sign"] == "-":
            offset = -offset
    try:
        value = dt.datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            microsecond,
            tzinfo=dt.timezone(offset),
        )
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        # ValueError: a field out of range, such as month 13 or second 60 (datetime has
        # no leap seconds). OverflowError: a time that leaves datetime's range in UTC.
        return None


def parse_audit_query(parameters: Mapping[str, Sequence[str]]) -> AuditLogQuery:
    """Validate the query string of an audit log request into an AuditLogQuery.

    `parameters` maps each parameter name to every value given for it, as werkzeug's
    `MultiDict.to_dict(flat=False)` returns it. Raise InvalidAuditQuery naming every
    unknown, repeated or invalid parameter.
    """
    problems: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    for name, supplied in parameters.items():
        if name not in QUERY_PARAMETERS:
            reported = name if _PARAMETER_NAME_RE.fullmatch(name) else UNRECOGNIZED_PARAMETER_NAME
            problems.append(
                (reported, f"unknown parameter; expected {', '.join(QUERY_PARAMETERS)}")
            )
        elif len(supplied) != 1:
            problems.append((name, "must be given at most once"))
        else:
            values[name] = supplied[0]

    actor = _user_reference(values, "actor", problems)
    target_user = _user_reference(values, "target_user", problems)
    resource_type = _choice(values, "resource_type", RESOURCE_TYPES, problems)
    action = _choice(values, "action", AUDIT_ACTIONS, problems)
    since = _time(values, "since", problems)
    until = _time(values, "until", problems)
    if since is not None and until is not None and until <= since:
        problems.append(("until", "must be later than since"))
    limit = _limit(values, problems)
    after = _cursor(values, problems)

    if problems:
        raise InvalidAuditQuery(problems)
    return AuditLogQuery(
        actor=actor,
        resource_type=resource_type,
        action=action,
        target_user=target_user,
        since=since,
        until=until,
        limit=limit,
        after=after,
    )


def _user_reference(
    values: Mapping[str, str], name: str, problems: list[tuple[str, str]]
) -> str | None:
    text = values.get(name)
    if text is None:
        return None
    if parse_uuid(text) is None and not could_be_username(text):
        problems.append((name, "must be a username, a user id (UUID) or 'me'"))
        return None
    return text


def _choice(
    values: Mapping[str, str], name: str, choices: Sequence[str], problems: list[tuple[str, str]]
) -> str | None:
    text = values.get(name)
    if text is None:
        return None
    if text not in choices:
        problems.append((name, f"must be one of {', '.join(choices)}"))
        return None
    return text


def _time(
    values: Mapping[str, str], name: str, problems: list[tuple[str, str]]
) -> dt.datetime | None:
    text = values.get(name)
    if text is None:
        return None
    value = parse_rfc3339(text)
    if value is None:
        problems.append(
            (name, "must be an RFC 3339 date-time with a time zone, e.g. 2026-01-31T09:00:00Z")
        )
    return value


def _limit(values: Mapping[str, str], problems: list[tuple[str, str]]) -> int:
    text = values.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not _LIMIT_RE.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        problems.append(("limit", f"must be an integer from 1 to {MAX_LIMIT}"))
        return DEFAULT_LIMIT
    return int(text)


def _cursor(values: Mapping[str, str], problems: list[tuple[str, str]]) -> Cursor | None:
    text = values.get("after")
    if text is None:
        return None
    cursor = decode_cursor(text)
    if cursor is None:
        problems.append(("after", "must be a next_after value returned by this endpoint"))
    return cursor
