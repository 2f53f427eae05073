"""HTTP view for reading the audit log: GET /api/v2/audit-logs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from app.api.auth import current_actor
from app.api.errors import APIError, Validation
from app.audit import store
from app.audit.errors import InvalidAuditQuery
from app.audit.query import encode_cursor, parse_audit_query
from app.authz import Forbidden
from app.db.session import get_session

blueprint = Blueprint("audit", __name__, url_prefix="/api/v2/audit-logs")


def audit_log_json(entry: store.AuditLogEntry) -> dict[str, Any]:
    log = entry.log
    return {
        "id": str(log.id),
        "time": log.time.isoformat(),
        "user_id": _optional_str(log.user_id),
        "username": entry.username,
        "api_key_id": log.api_key_id,
        "ip": log.ip,
        "user_agent": log.user_agent,
        "request_id": log.request_id,
        "action": log.action,
        "resource_type": log.resource_type,
        "resource_id": log.resource_id,
        "resource_target": log.resource_target,
        "resource_owner_id": _optional_str(log.resource_owner_id),
        "organization_id": _optional_str(log.organization_id),
        "status_code": log.status_code,
        "diff": log.diff,
        "additional_fields": log.additional_fields,
    }


@blueprint.get("")
def list_audit_logs() -> dict[str, Any]:
    """List audit rows newest first, filtered by the query string, one page at a time."""
    actor = current_actor()
    session = get_session()
    try:
        query = parse_audit_query(request.args.to_dict(flat=False))
        page = store.list_audit_logs(session, actor, query)
    except InvalidAuditQuery as error:
        raise APIError(
            400,
            "Invalid query parameters.",
            "One or more query parameters are invalid; see validations.",
            validations=[Validation(field, detail) for field, detail in error.problems],
        ) from None
    except Forbidden:
        raise APIError(
            403,
            "Forbidden.",
            "Your roles do not allow reading the audit log.",
        ) from None

    result = {
        "audit_logs": [audit_log_json(entry) for entry in page.entries],
        "next_after": None if page.next_after is None else encode_cursor(page.next_after),
    }
    session.commit()
    return result


def _optional_str(value: object | None) -> str | None:
    return None if value is None else str(value)
