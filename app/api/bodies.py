"""Request bodies: one JSON object with a known set of fields.

Views call `json_object_body` first, then check each field's type and rules. Every
problem raises APIError. Validation details name the rule that failed and never echo
a submitted value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Set
from typing import Any, NoReturn

from flask import request

from app.api.errors import APIError, Validation

# Unknown field names are echoed in validations only when they look like a field name.
# Anything else (very long, control characters) is reported under this placeholder.
_FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
UNRECOGNIZED_FIELD_NAME = "<unrecognized field name>"


def json_object_body(allowed: Set[str], required: Set[str] = frozenset()) -> dict[str, Any]:
    """Parse the request body as a JSON object whose keys are all in `allowed`.

    Raise APIError 415 when the Content-Type is not JSON or the body is not valid JSON,
    and 400 when the JSON is not an object, has a field outside `allowed`, or lacks a
    field of `required`. A 400 lists every failing field in its validations.
    """
    if not request.is_json:
        raise APIError(
            415,
            "Unsupported media type.",
            "Send the request body as JSON with 'Content-Type: application/json'.",
        )
    body = _parse_json(request.get_data(cache=True))
    if not isinstance(body, dict):
        raise APIError(400, "Invalid request body.", "The request body must be a JSON object.")

    validations: list[Validation] = []
    for name in body:
        if name not in allowed:
            field = name if _FIELD_NAME_RE.match(name) else UNRECOGNIZED_FIELD_NAME
            validations.append(Validation(field, "unknown field"))
    for name in sorted(required):
        if name not in body:
            validations.append(Validation(name, "required"))
    if validations:
        raise_invalid(validations)
    return body


def raise_invalid(validations: list[Validation]) -> NoReturn:
    """Raise the 400 APIError that reports `validations`, one entry per failing field."""
    raise APIError(
        400,
        "Invalid request body.",
        "One or more fields are invalid; see validations.",
        validations=validations,
    )


def _reject_constant(name: str) -> NoReturn:
    # Python's json module accepts NaN and Infinity, which are not JSON (RFC 8259).
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON, bad UTF-8 and integers past Python's
        # digit limit. RecursionError covers arrays or objects nested too deep to parse.
        raise APIError(
            415,
            "Unsupported media type.",
            "The request body is not valid JSON.",
        ) from None


def string_field(body: dict[str, Any], field: str, validations: list[Validation]) -> str | None:
    """Return `body[field]` when it is a string, or None when the field is absent.

    A present value of another JSON type (null included) appends a "must be a string"
    validation for `field` and returns None, so a view can collect every failing field
    before it calls raise_invalid.
    """
    if field not in body:
        return None
    value = body[field]
    if not isinstance(value, str):
        validations.append(Validation(field, "must be a string"))
        return None
    return value
