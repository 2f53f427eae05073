"""/api/v2/users/{user}/tokens: minting, listing and revoking API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.auth import store
from app.auth.tokens import DEFAULT_LIFETIME, load_actor
from app.authz import count_decisions
from app.users.models import User
from tests.support.factories import bearer
from tests.users.helpers import World, audit_rows, build_world, call, validation_fields

TOKEN_METADATA_FIELDS = {"id", "scope", "created_at", "expires_at", "last_used_at"}


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def test_create_token_returns_token_once(client: FlaskClient, world: World) -> None:
    tina = world.tokens["self"]

    response = call(client, "POST", "/api/v2/users/me/tokens", tina, {})

    assert response.status_code == 201
    assert response.json is not None
    assert set(response.json) == TOKEN_METADATA_FIELDS | {"token"}
    token = response.json["token"]
    assert token.startswith(response.json["id"] + "-")
    assert response.json["scope"] == "all"
    assert response.json["last_used_at"] is None
    assert response.headers["Location"] == (
        f"/api/v2/users/{world.user_ids['tina']}/tokens/{response.json['id']}"
    )
    me = client.get("/api/v2/users/me", headers=bearer(token))
    assert me.status_code == 200
    listed = call(client, "GET", "/api/v2/users/me/tokens", tina)
    assert token not in listed.get_data(as_text=True)
    fetched = call(client, "GET", response.headers["Location"], tina)
    assert token not in fetched.get_data(as_text=True)


def test_create_token_default_lifetime(client: FlaskClient, world: World) -> None:
    response = call(client, "POST", "/api/v2/users/me/tokens", world.tokens["self"], {})

    assert response.json is not None
    created = dt.datetime.fromisoformat(response.json["created_at"])
    expires = dt.datetime.fromisoformat(response.json["expires_at"])
    assert expires - created == DEFAULT_LIFETIME


@pytest.mark.parametrize("days", [1, 365])
def test_create_token_lifetime_bounds(client: FlaskClient, world: World, days: int) -> None:
    response = call(
        client, "POST", "/api/v2/users/me/tokens", world.tokens["self"], {"lifetime_days": days}
    )

    assert response.status_code == 201
    assert response.json is not None
    created = dt.datetime.fromisoformat(response.json["created_at"])
    expires = dt.datetime.fromisoformat(response.json["expires_at"])
    assert expires - created == dt.timedelta(days=days)


@pytest.mark.parametrize(
    "days",
    [
        pytest.param(0, id="zero"),
        pytest.param(366, id="over-a-year"),
        pytest.param(-1, id="negative"),
        pytest.param("7", id="string"),
        pytest.param(7.5, id="fraction"),
        pytest.param(True, id="boolean"),
        pytest.param(None, id="null"),
        pytest.param(10**400, id="huge"),
    ],
)
def test_create_token_invalid_lifetime_is_400(
    client: FlaskClient, engine: Engine, world: World, days: object
) -> None:
    response = call(
        client, "POST", "/api/v2/users/me/tokens", world.tokens["self"], {"lifetime_days": days}
    )

    assert response.status_code == 400
    assert validation_fields(response) == ["lifetime_days"]
    assert audit_rows(engine) == []


def test_create_token_without_body_is_415(client: FlaskClient, world: World) -> None:
    response = client.post("/api/v2/users/me/tokens", headers=bearer(world.tokens["self"]))

    assert response.status_code == 415


def test_create_token_audit_row_hides_secret(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    response = call(client, "POST", "/api/v2/users/me/tokens", world.tokens["self"], {})

    assert response.json is not None
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].resource_type == "api_key"
    assert rows[0].resource_id == response.json["id"]
    assert rows[0].diff["hashed_secret"] == {"old": "", "new": "", "secret": True}
    secret = response.json["token"].split("-", 1)[1]
    assert secret not in repr(rows[0].diff)
    assert secret not in repr(rows[0].additional_fields)


def test_list_tokens_shows_metadata_only(client: FlaskClient, world: World) -> None:
    response = call(client, "GET", "/api/v2/users/tina/tokens", world.tokens["owner"])

    assert response.status_code == 200
    assert response.json is not None
    assert len(response.json) == 2
    for token in response.json:
        assert set(token) == TOKEN_METADATA_FIELDS
    assert world.tina_spare_token_id in [token["id"] for token in response.json]


def test_list_tokens_records_last_use(client: FlaskClient, world: World) -> None:
    tina = world.tokens["self"]
    tina_token_id = tina.split("-", 1)[0]

    response = call(client, "GET", "/api/v2/users/me/tokens", tina)

    assert response.json is not None
    last_used = {token["id"]: token["last_used_at"] for token in response.json}
    assert last_used[tina_token_id] is not None
    assert last_used[world.tina_spare_token_id] is None


def test_delete_token_stops_authentication(client: FlaskClient, world: World) -> None:
    tina = world.tokens["self"]
    tina_token_id = tina.split("-", 1)[0]

    response = call(client, "DELETE", f"/api/v2/users/tina/tokens/{tina_token_id}", tina)

    assert response.status_code == 204
    assert call(client, "GET", "/api/v2/users/me", tina).status_code == 401


def test_delete_token_owner_revokes_other(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    tina_token_id = world.tokens["self"].split("-", 1)[0]

    response = call(
        client, "DELETE", f"/api/v2/users/tina/tokens/{tina_token_id}", world.tokens["owner"]
    )

    assert response.status_code == 204
    assert call(client, "GET", "/api/v2/users/me", world.tokens["self"]).status_code == 401
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].action == "delete"
    assert rows[0].resource_owner_id == world.user_ids["tina"]
    assert rows[0].user_id == world.user_ids["olivia"]


@pytest.mark.parametrize(
    "token_id",
    [
        pytest.param("abcdefghij", id="unknown"),
        pytest.param("short", id="malformed"),
        pytest.param("%00", id="nul"),
    ],
)
def test_delete_token_unknown_is_404(
    client: FlaskClient, engine: Engine, world: World, token_id: str
) -> None:
    response = call(client, "DELETE", f"/api/v2/users/me/tokens/{token_id}", world.tokens["self"])

    assert response.status_code == 404
    assert audit_rows(engine) == []


def test_delete_token_of_other_user_path_is_404(client: FlaskClient, world: World) -> None:
    # The id exists, but belongs to tina, not to mike.
    path = f"/api/v2/users/mike/tokens/{world.tina_spare_token_id}"

    response = call(client, "DELETE", path, world.tokens["owner"])

    assert response.status_code == 404


def test_list_tokens_makes_two_decisions(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        actor = load_actor(session, session.get_one(User, world.user_ids["olivia"]))

        with count_decisions() as decisions:
            keys = store.list_tokens(session, actor, "tina")

    assert len(keys) == 2
    # The user's read, and the token list scope.
    assert decisions[0] == 2
