"""SDK pieces that need no server: error mapping, path encoding, ETags, local checks."""

from __future__ import annotations

import pytest

from app.sdk import (
    UNSET,
    APIError,
    Client,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServerError,
    Unauthorized,
    ValidationError,
)
from app.sdk.client import parse_etag, path, quote_segment
from app.sdk.errors import error_class

CANARY = "canary-7f3a9c-do-not-leak"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(400, ValidationError, id="400"),
        pytest.param(401, Unauthorized, id="401"),
        pytest.param(403, Forbidden, id="403"),
        pytest.param(404, NotFound, id="404"),
        pytest.param(409, Conflict, id="409"),
        pytest.param(412, PreconditionFailed, id="412"),
        pytest.param(413, ValidationError, id="413"),
        pytest.param(415, ValidationError, id="415"),
        pytest.param(405, APIError, id="405-generic"),
        pytest.param(500, ServerError, id="500"),
        pytest.param(503, ServerError, id="503"),
    ],
)
def test_error_class_by_status(status: int, expected: type[APIError]) -> None:
    assert error_class(status) is expected


def test_api_error_str_lists_fields() -> None:
    error = Conflict(409, "Conflict.", "Pick another.", [FieldError("env_name", "taken")])

    assert str(error) == "409 Conflict. Pick another. [env_name: taken]"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("db-password", "db-password", id="plain"),
        pytest.param("db password", "db%20password", id="space"),
        pytest.param("a%2Fb", "a%252Fb", id="percent"),
        pytest.param("a/b", "a%2Fb", id="slash"),
        pytest.param("a?b#c", "a%3Fb%23c", id="query-and-fragment"),
        pytest.param("schlüssel", "schl%C3%BCssel", id="non-ascii"),
        pytest.param(".", "%2E", id="dot"),
        pytest.param("..", "%2E%2E", id="dot-dot"),
        pytest.param("...", "%2E%2E%2E", id="three-dots"),
        pytest.param(".env", ".env", id="leading-dot"),
    ],
)
def test_quote_segment_encodes_one_segment(name: str, expected: str) -> None:
    assert quote_segment(name) == expected


def test_path_encodes_every_segment() -> None:
    assert path("users", "me", "secrets", "a/b") == "/api/v2/users/me/secrets/a%2Fb"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param('"3"', 3, id="strong"),
        pytest.param('W/"12"', 12, id="weak"),
        pytest.param("3", None, id="unquoted"),
        pytest.param('""', None, id="empty"),
        pytest.param('"v3"', None, id="not-a-number"),
        pytest.param('"٣"', None, id="non-ascii-digit"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_etag_reads_version(header: str | None, expected: int | None) -> None:
    assert parse_etag(header) == expected


def test_unset_repr_is_name() -> None:
    assert repr(UNSET) == "UNSET"


def test_client_repr_omits_token() -> None:
    with Client("http://127.0.0.1:8080/", "abcdefghij-" + CANARY) as client:
        assert CANARY not in repr(client)
