"""The SDK against the real server process on a loopback port, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.sdk import Client, Conflict, NotFound, PreconditionFailed, ValidationError
from app.sdk.client import path
from tests.support.factories import make_token, make_user
from tests.support.server import ServerProcess, service_env

pytestmark = pytest.mark.e2e

VALUE = "sdk-e2e-value-4a61"


@pytest.fixture
def sdk(database_url: URL, tmp_path: Path, engine: Engine) -> Iterator[Client]:
    """An SDK client for a new user, talking to a server started for this test."""
    with Session(engine) as session:
        token = make_token(session, make_user(session, "alice"))
        session.commit()
    with (
        ServerProcess(service_env(database_url, tmp_path / "data")) as server,
        Client(server.url, token) as client,
    ):
        yield client


def test_sdk_server_full_cycle(sdk: Client) -> None:
    me = sdk.me()
    created = sdk.create_secret("db password", VALUE, env_name="DB_PASSWORD")
    fetched = sdk.get_secret("db password")
    listed = sdk.list_secrets()
    updated = sdk.update_secret("db password", value=VALUE + "-2", env_name="", if_version=1)
    sdk.delete_secret("db password", if_version=2)
    remaining = sdk.list_secrets()

    assert me.username == "alice"
    assert sdk.get_user(str(me.id)) == me
    assert created.version == 1
    assert fetched == created
    assert listed == [created]
    assert updated.version == 2
    assert updated.env_name == ""
    assert remaining == []


def test_sdk_server_names_round_trip(sdk: Client) -> None:
    # Each name takes the whole cycle through percent-encoding and waitress's decoding.
    names = ["schlüssel", "鍵 🔑", "a%2Fb", "..x", "a+b&c=d"]
    outcomes = {}
    for name in names:
        created = sdk.create_secret(name, VALUE)
        fetched = sdk.get_secret(name)
        updated = sdk.update_secret(name, description="d")
        outcomes[name] = (created.name, fetched.name, updated.version)
    listed = [secret.name for secret in sdk.list_secrets()]
    for name in names:
        sdk.delete_secret(name)

    assert outcomes == {name: (name, name, 2) for name in names}
    assert listed == sorted(names)
    assert sdk.list_secrets() == []


def test_sdk_server_typed_errors(sdk: Client) -> None:
    sdk.create_secret("taken", VALUE, env_name="TAKEN")

    with pytest.raises(Conflict) as conflict:
        sdk.create_secret("other", VALUE, env_name="TAKEN")
    with pytest.raises(NotFound) as not_found:
        sdk.get_secret("absent")
    with pytest.raises(PreconditionFailed) as stale:
        sdk.update_secret("taken", description="late", if_version=9)
    with pytest.raises(ValidationError) as local:
        sdk.create_secret("bad", VALUE, file_path="relative")
    # _request skips the SDK's own checks, so the server's 400 comes back.
    with pytest.raises(ValidationError) as remote:
        sdk._request("PATCH", path("users", "me", "secrets", "taken"), json={"name": "x"})

    assert conflict.value.status == 409
    assert [error.field for error in conflict.value.validations] == ["env_name"]
    assert not_found.value.status == 404
    assert stale.value.status == 412
    assert [error.field for error in local.value.validations] == ["file_path"]
    assert remote.value.status == 400
    assert [error.field for error in remote.value.validations] == ["name"]
