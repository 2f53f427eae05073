"""The SDK client against the real application in-process, on SQLite and PostgreSQL.

Requests go through httpx's WSGI transport into the Flask app, so every call runs the
real views, store and database. The counting wrapper records each request that reaches
the app, which shows when the SDK rejected fields without a round trip.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.sdk import (
    APIError,
    Client,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationError,
)
from app.sdk.client import path
from app.secrets.validation import VALUE_MAX_BYTES
from tests.support.factories import make_token, make_user

BASE_URL = "http://usersecrets.test"
# A value that no other test data contains, so finding it anywhere is a leak.
CANARY = "sdk-canary-0b5e7d21"


@dataclass
class RequestLog:
    """The (method, path) of every request that reached the application."""

    requests: list[tuple[str, str]] = field(default_factory=list)

    def wrap(self, app: Flask) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
        def counted(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
            return app(environ, start_response)

        return counted


@dataclass(frozen=True)
class Tokens:
    alice: str
    owner: str


@pytest.fixture
def tokens(engine: Engine) -> Tokens:
    with Session(engine) as session:
        alice = make_token(session, make_user(session, "alice", email="alice@example.com"))
        owner = make_token(session, make_user(session, "olivia", site_roles=["owner"]))
        session.commit()
    return Tokens(alice=alice, owner=owner)


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def connect(app: Flask, request_log: RequestLog) -> Iterator[Callable[[str], Client]]:
    """Return a factory of clients bound to the in-process app; closes them afterwards."""
    clients: list[Client] = []

    def new_client(token: str) -> Client:
        transport = httpx.WSGITransport(app=request_log.wrap(app))
        client = Client(BASE_URL, token, transport=transport)
        clients.append(client)
        return client

    yield new_client
    for client in clients:
        client.close()


@pytest.fixture
def alice(connect: Callable[[str], Client], tokens: Tokens) -> Client:
    return connect(tokens.alice)


def test_sdk_me_returns_typed_user(alice: Client) -> None:
    user = alice.me()

    assert user.username == "alice"
    assert user.email == "alice@example.com"
    assert user.status == "active"
    assert user.site_roles == ()
    assert user.created_at.tzinfo is not None


def test_sdk_get_user_by_username(alice: Client) -> None:
    me = alice.me()

    assert alice.get_user("ALICE") == me
    assert alice.get_user(str(me.id)) == me


def test_sdk_secret_full_cycle(alice: Client) -> None:
    created = alice.create_secret(
        "db-password",
        CANARY,
        description="Primary database",
        env_name="DB_PASSWORD",
        file_path="~/.config/db/password",
    )
    assert created.version == 1
    assert created.env_name == "DB_PASSWORD"
    assert created.created_at.tzinfo is not None

    fetched = alice.get_secret("db-password")
    assert fetched == created

    assert alice.list_secrets() == [created]

    updated = alice.update_secret("db-password", value=CANARY + "-2", if_version=1)
    assert updated.version == 2
    assert updated.description == "Primary database"
    assert updated.updated_at >= created.updated_at

    alice.delete_secret("db-password", if_version=2)
    with pytest.raises(NotFound):
        alice.get_secret("db-password")


def test_sdk_update_absent_keeps_empty_clears(alice: Client) -> None:
    alice.create_secret("api-key", CANARY, description="old", env_name="API_KEY")

    kept = alice.update_secret("api-key", value="rotated")
    cleared = alice.update_secret("api-key", description="", env_name="")

    assert kept.description == "old"
    assert kept.env_name == "API_KEY"
    assert cleared.description == ""
    assert cleared.env_name == ""
    assert cleared.version == 3


def test_sdk_list_sorted_by_name(alice: Client) -> None:
    for name in ("zeta", "alpha", "Mid"):
        alice.create_secret(name, CANARY)

    names = [secret.name for secret in alice.list_secrets()]

    assert names == sorted(names)
    assert set(names) == {"zeta", "alpha", "Mid"}


def test_sdk_list_items_carry_version(alice: Client) -> None:
    alice.create_secret("one", CANARY)
    alice.update_secret("one", description="changed")

    assert [secret.version for secret in alice.list_secrets()] == [2]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("db password", id="space"),
        pytest.param("a%2Fb", id="percent-escape"),
        pytest.param("a+b=c&d", id="query-characters"),
        pytest.param("...", id="three-dots"),
        # Non-ASCII names are tested against the real server in tests/e2e: httpx 0.29's
        # WSGI transport passes PATH_INFO as decoded text instead of the latin-1 bytes
        # PEP 3333 requires, so werkzeug cannot decode them here.
    ],
)
def test_sdk_names_round_trip_encoded(alice: Client, name: str) -> None:
    alice.create_secret(name, CANARY)

    assert alice.get_secret(name).name == name
    assert alice.update_secret(name, description="x").version == 2
    alice.delete_secret(name)
    assert alice.list_secrets() == []


@pytest.mark.parametrize(
    ("fields", "expected_field"),
    [
        pytest.param({"env_name": "DUP"}, "env_name", id="env_name"),
        pytest.param({"file_path": "/etc/dup"}, "file_path", id="file_path"),
    ],
)
def test_sdk_duplicate_field_raises_conflict(
    alice: Client, fields: dict[str, str], expected_field: str
) -> None:
    alice.create_secret("first", CANARY, **fields)

    with pytest.raises(Conflict) as raised:
        alice.create_secret("second", CANARY, **fields)

    assert raised.value.status == 409
    assert [error.field for error in raised.value.validations] == [expected_field]


def test_sdk_duplicate_name_raises_conflict(alice: Client) -> None:
    alice.create_secret("same", CANARY)

    with pytest.raises(Conflict) as raised:
        alice.create_secret("same", CANARY)

    assert [error.field for error in raised.value.validations] == ["name"]


def test_sdk_stale_version_raises_precondition(alice: Client) -> None:
    alice.create_secret("token", CANARY)
    alice.update_secret("token", description="moved on")

    with pytest.raises(PreconditionFailed) as update_error:
        alice.update_secret("token", value="lost update", if_version=1)
    with pytest.raises(PreconditionFailed) as delete_error:
        alice.delete_secret("token", if_version=1)

    assert update_error.value.status == 412
    assert delete_error.value.status == 412
    assert alice.get_secret("token").version == 2


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda client: client.get_secret("absent"), id="get"),
        pytest.param(lambda client: client.update_secret("absent", value="v"), id="update"),
        pytest.param(lambda client: client.delete_secret("absent"), id="delete"),
        pytest.param(lambda client: client.list_secrets(user="nobody"), id="list-unknown-user"),
    ],
)
def test_sdk_missing_raises_not_found(alice: Client, call: Callable[[Client], Any]) -> None:
    with pytest.raises(NotFound) as raised:
        call(alice)

    assert raised.value.status == 404


def test_sdk_bad_token_raises_unauthorized(connect: Callable[[str], Client]) -> None:
    client = connect("abcdefghij-" + "x" * 43)

    with pytest.raises(Unauthorized) as raised:
        client.list_secrets()

    assert raised.value.status == 401


def test_sdk_site_owner_gets_forbidden_list(
    connect: Callable[[str], Client], alice: Client, tokens: Tokens
) -> None:
    alice.create_secret("mine", CANARY)
    owner = connect(tokens.owner)

    with pytest.raises(Forbidden):
        owner.list_secrets(user="alice")
    with pytest.raises(NotFound):
        owner.get_secret("mine", user="alice")


@pytest.mark.parametrize(
    ("call", "expected_fields"),
    [
        pytest.param(lambda c: c.create_secret("", CANARY), ["name"], id="empty-name"),
        pytest.param(lambda c: c.create_secret("a/b", CANARY), ["name"], id="slash-in-name"),
        pytest.param(lambda c: c.create_secret("n", ""), ["value"], id="empty-value"),
        pytest.param(lambda c: c.create_secret("n", CANARY + "\0"), ["value"], id="nul-value"),
        pytest.param(
            lambda c: c.create_secret("n", "x" * (VALUE_MAX_BYTES + 1)), ["value"], id="too-long"
        ),
        pytest.param(
            lambda c: c.create_secret("n", CANARY, env_name="PATH"), ["env_name"], id="reserved-env"
        ),
        pytest.param(
            lambda c: c.create_secret(" n", CANARY, file_path="rel/path"),
            ["name", "file_path"],
            id="every-field-listed",
        ),
        pytest.param(lambda c: c.update_secret("n", value=""), ["value"], id="update-empty-value"),
        pytest.param(
            lambda c: c.update_secret("n", file_path="/a/../b"), ["file_path"], id="update-dotdot"
        ),
    ],
)
def test_sdk_invalid_fields_rejected_before_sending(
    alice: Client,
    request_log: RequestLog,
    call: Callable[[Client], Any],
    expected_fields: list[str],
) -> None:
    with pytest.raises(ValidationError) as raised:
        call(alice)

    assert raised.value.status == 400
    assert [error.field for error in raised.value.validations] == expected_fields
    assert request_log.requests == []


def test_sdk_update_without_fields_rejected(alice: Client, request_log: RequestLog) -> None:
    with pytest.raises(ValidationError):
        alice.update_secret("n")

    assert request_log.requests == []


def test_sdk_server_validation_error_typed(alice: Client) -> None:
    # _request skips the SDK's own checks, so this shows how a server 400 is typed.
    with pytest.raises(ValidationError) as raised:
        alice._request("POST", path("users", "me", "secrets"), json={"name": "n"})

    assert raised.value.status == 400
    assert [error.field for error in raised.value.validations] == ["value"]


def test_sdk_oversized_body_raises_validation(alice: Client) -> None:
    body = {"name": "big", "value": "x" * (1024 * 1024)}

    with pytest.raises(ValidationError) as raised:
        alice._request("POST", path("users", "me", "secrets"), json=body)

    assert raised.value.status == 413


def test_sdk_errors_never_contain_value(alice: Client) -> None:
    alice.create_secret("taken", "first value")
    attempts: list[Callable[[], Any]] = [
        lambda: alice.create_secret("taken", CANARY),
        lambda: alice.create_secret("fresh", CANARY + "\0"),
        lambda: alice.create_secret("fresh", CANARY * 5000),
        lambda: alice.update_secret("taken", value=CANARY, if_version=7),
        lambda: alice.update_secret("absent", value=CANARY),
        lambda: alice._request(
            "POST", path("users", "me", "secrets"), json={"name": "fresh", "value": [CANARY]}
        ),
    ]
    errors: list[APIError] = []
    for attempt in attempts:
        with pytest.raises(APIError) as raised:
            attempt()
        errors.append(raised.value)

    for error in errors:
        assert CANARY not in str(error), repr(error)
        assert CANARY not in repr(error), repr(error)
        assert CANARY not in repr(error.args), repr(error)


def test_sdk_timeout_raises_connection_failed() -> None:
    # A listening socket that never responds: the connection opens, the read times out.
    with socket.create_server(("127.0.0.1", 0)) as server:
        host, port = server.getsockname()[:2]
        client = Client(f"http://{host}:{port}", "abcdefghij-" + "x" * 43, timeout=0.2)
        with client, pytest.raises(ConnectionFailed) as raised:
            client.create_secret("n", CANARY)

    assert "ReadTimeout" in str(raised.value)
    assert CANARY not in str(raised.value)


def test_sdk_timestamps_are_utc(alice: Client) -> None:
    secret = alice.create_secret("when", CANARY)

    assert secret.created_at.utcoffset() == dt.timedelta(0)
