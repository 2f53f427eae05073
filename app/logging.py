"""Logging for the service: one handler on the `app` logger, request id on every line."""

from __future__ import annotations

import logging
import sys

from flask import g, has_request_context

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Add the current request's id to each record, or "-" outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = "-"
        if has_request_context():
            request_id = g.get("request_id", "-")
        record.request_id = request_id
        return True


def configure_logging(level: str) -> None:
    """Attach the service's handler to the `app` and `waitress` loggers, once per process.

    The root logger is left alone, so embedding the app or running it under pytest keeps
    the host's logging configuration.
    """
    for name in ("app", "waitress"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if any(isinstance(h, _ServiceHandler) for h in logger.handlers):
            continue
        handler = _ServiceHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so a second app does not add another."""
