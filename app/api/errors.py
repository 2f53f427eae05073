"""API errors and the single place that turns every error into a JSON response.

Bodies follow {"message": ..., "detail": ..., "validations": [{"field": ..., "detail": ...}]}.
No handler puts a request value into a message: fields are named, values never echoed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Validation:
    field: str
    detail: str


class APIError(Exception):
    """An error with an HTTP status, raised anywhere and rendered once at the edge."""

    def __init__(
        self,
        status: int,
        message: str,
        detail: str = "",
        validations: list[Validation] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.validations = validations or []


def error_response(
    status: int, message: str, detail: str = "", validations: list[Validation] | None = None
) -> Response:
    body: dict[str, Any] = {
        "message": message,
        "detail": detail,
        "validations": [{"field": v.field, "detail": v.detail} for v in validations or []],
    }
    response = jsonify(body)
    response.status_code = status
    return response


# Werkzeug's own texts for routing errors speak of spelling and URLs typed by hand.
_ROUTING_ERRORS = {
    404: ("Not found.", "No endpoint matches this path; see /api/v2/openapi.json."),
    405: ("Method not allowed.", "This endpoint does not accept this method; see Allow."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def handle_api_error(error: APIError) -> Response:
        response = error_response(error.status, error.message, error.detail, error.validations)
        if error.status == 401:
            # RFC 9110 requires a challenge on every 401; this API takes bearer tokens only.
            response.headers["WWW-Authenticate"] = 'Bearer realm="usersecrets"'
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(error: RequestEntityTooLarge) -> Response:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(
            413,
            "Request body too large.",
            f"The request body may be at most {limit} bytes.",
        )

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response:
        status = error.code or 500
        message, detail = _ROUTING_ERRORS.get(status, (error.name, error.description or ""))
        response = error_response(status, message, detail)
        # Keep headers such as Allow on 405 responses.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        # The type only: an exception's message can carry request data.
        log.error(
            "unhandled error type=%s",
            type(error).__name__,
            exc_info=app.config.get("LOG_TRACEBACKS", True),
        )
        request_id = g.get("request_id", "")
        return error_response(
            500,
            "Internal server error.",
            f"The error was logged with request id {request_id}; report that id.",
        )
