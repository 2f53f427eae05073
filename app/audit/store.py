"""Authorized reads of the audit log.

Rows are written only by `app.audit.recorder.record_change`, inside the transaction of
the change they describe; nothing here writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.audit.errors import InvalidAuditQuery
from app.audit.models import AuditLog
from app.audit.query import AuditLogQuery, Cursor
from app.authz import Actor, Target, authorize
from app.users.models import User
from app.users.validation import parse_uuid


@dataclass(frozen=True)
class AuditLogEntry:
    """An audit row and the actor's current username (None for the CLI or a deleted user)."""

    log: AuditLog
    username: str | None


@dataclass(frozen=True)
class AuditLogPage:
    """One page of audit rows, newest first, and the cursor of the next page if any."""

    entries: list[AuditLogEntry]
    next_after: Cursor | None


def list_audit_logs(session: Session, actor: Actor, query: AuditLogQuery) -> AuditLogPage:
    """Return the page of audit rows that `query` selects, newest first.

    Raise Forbidden unless the actor may read the audit log. Raise InvalidAuditQuery when
    `actor` or `target_user` names a username that no user has. A user id is accepted
    even when its user no longer exists, because audit rows outlive their users.
    """
    authorize(actor, "read", Target("audit_log"))

    problems: list[tuple[str, str]] = []
    actor_id = _resolve_user(session, actor, query.actor, "actor", problems)
    owner_id = _resolve_user(session, actor, query.target_user, "target_user", problems)
    if problems:
        raise InvalidAuditQuery(problems)

    statement = _filtered(query, actor_id, owner_id)
    rows = session.execute(statement.limit(query.limit + 1)).all()

    entries = [AuditLogEntry(log=row.AuditLog, username=row.username) for row in rows]
    next_after = None
    if len(entries) > query.limit:
        entries = entries[: query.limit]
        last = entries[-1].log
        next_after = Cursor(time=last.time, id=last.id)
    return AuditLogPage(entries=entries, next_after=next_after)


def _filtered(
    query: AuditLogQuery, actor_id: uuid.UUID | None, owner_id: uuid.UUID | None
) -> Select[AuditLog, str]:
    statement = select(AuditLog, User.username).outerjoin(User, User.id == AuditLog.user_id)
    if actor_id is not None:
        statement = statement.where(AuditLog.user_id == actor_id)
    if owner_id is not None:
        statement = statement.where(AuditLog.resource_owner_id == owner_id)
    if query.resource_type is not None:
        statement = statement.where(AuditLog.resource_type == query.resource_type)
    if query.action is not None:
        statement = statement.where(AuditLog.action == query.action)
    if query.since is not None:
        statement = statement.where(AuditLog.time >= query.since)
    if query.until is not None:
        statement = statement.where(AuditLog.time < query.until)
    if query.after is not None:
        # Keyset pagination in the order of ix_audit_logs_time_id: the rows that sort
        # after the cursor's (time, id) when ordered newest first.
        statement = statement.where(
            or_(
                AuditLog.time < query.after.time,
                and_(AuditLog.time == query.after.time, AuditLog.id < query.after.id),
            )
        )
    return statement.order_by(AuditLog.time.desc(), AuditLog.id.desc())


def _resolve_user(
    session: Session,
    actor: Actor,
    reference: str | None,
    parameter: str,
    problems: list[tuple[str, str]],
) -> uuid.UUID | None:
    """Turn `me`, a user id or a username into a user id; None when no filter was given."""
    if reference is None:
        return None
    if reference == "me":
        return actor.user_id
    user_id = parse_uuid(reference)
    if user_id is not None:
        return user_id
    found = session.scalar(select(User.id).where(func.lower(User.username) == reference.lower()))
    if found is None:
        problems.append(
            (parameter, "no user has this username; use the user id for a deleted user")
        )
    return found
