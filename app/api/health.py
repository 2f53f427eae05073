"""Health check: the process serves requests and its database is reachable."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.errors import APIError
from app.db.session import get_session

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@blueprint.get("/healthz")
def healthz() -> dict[str, Any]:
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("health check failed: database unreachable error=%s", type(error).__name__)
        raise APIError(503, "Database unreachable.", "The health check query failed.") from None
    return {"status": "ok"}
