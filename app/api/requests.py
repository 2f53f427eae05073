"""Per-request plumbing: request ids, body limits, the access log line."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("app.request")


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def start_request() -> None:
        g.request_id = uuid.uuid4().hex
        g.request_started = time.monotonic()

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        duration_ms = (time.monotonic() - g.get("request_started", time.monotonic())) * 1000
        # The path may name a secret but never carries its value; query strings and
        # bodies are not logged.
        log.info(
            "method=%s path=%s status=%d duration_ms=%.1f",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
        )
        return response
