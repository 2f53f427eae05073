from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.support.factories import bearer, make_token, make_user


@pytest.fixture
def alice_token(engine: Engine) -> str:
    with Session(engine) as session:
        token = make_token(session, make_user(session, "alice", email="alice@example.com"))
        session.commit()
    return token


def test_get_me_returns_caller(client: FlaskClient, alice_token: str) -> None:
    response = client.get("/api/v2/users/me", headers=bearer(alice_token))

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["username"] == "alice"
    assert response.json["email"] == "alice@example.com"
    assert response.json["status"] == "active"
    assert response.headers["X-Request-Id"]


@pytest.mark.parametrize("reference", ["alice", "ALICE", "Alice"])
def test_get_user_by_username_any_case(
    client: FlaskClient, alice_token: str, reference: str
) -> None:
    response = client.get(f"/api/v2/users/{reference}", headers=bearer(alice_token))

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["username"] == "alice"


def test_get_user_by_uuid(client: FlaskClient, alice_token: str) -> None:
    me = client.get("/api/v2/users/me", headers=bearer(alice_token)).json
    assert me is not None

    response = client.get(f"/api/v2/users/{me['id']}", headers=bearer(alice_token))

    assert response.status_code == 200
    assert response.json == me


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param("nobody", id="unknown-username"),
        pytest.param(str(uuid.uuid4()), id="unknown-uuid"),
        pytest.param("0000-not-a-uuid", id="malformed-uuid"),
        pytest.param("a" * 300, id="too-long"),
        pytest.param("%00", id="nul"),
        pytest.param("%F0%9F%94%91", id="emoji"),
    ],
)
def test_get_user_unknown_is_404(client: FlaskClient, alice_token: str, reference: str) -> None:
    response = client.get(f"/api/v2/users/{reference}", headers=bearer(alice_token))

    assert response.status_code == 404
    assert response.json is not None
    assert response.json["message"] == "User not found."
    assert response.json["validations"] == []


def test_get_other_user_hidden_from_member(
    client: FlaskClient, engine: Engine, alice_token: str
) -> None:
    with Session(engine) as session:
        make_user(session, "bob")
        session.commit()

    response = client.get("/api/v2/users/bob", headers=bearer(alice_token))

    assert response.status_code == 404


def test_get_other_user_visible_to_auditor(client: FlaskClient, engine: Engine) -> None:
    with Session(engine) as session:
        make_user(session, "bob")
        token = make_token(session, make_user(session, "carol", site_roles=["auditor"]))
        session.commit()

    response = client.get("/api/v2/users/bob", headers=bearer(token))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer garbage"}, id="malformed"),
        pytest.param({"Authorization": "Token abc"}, id="wrong-scheme"),
        pytest.param({"Authorization": "Bearer abcdefghij-" + "x" * 43}, id="unknown"),
    ],
)
def test_get_me_without_valid_token_is_401(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v2/users/me", headers=headers)

    assert response.status_code == 401
    assert response.is_json
    assert response.json is not None
    assert set(response.json) == {"message", "detail", "validations"}


def test_get_me_suspended_user_is_401(client: FlaskClient, engine: Engine) -> None:
    with Session(engine) as session:
        token = make_token(session, make_user(session, "sam", status="suspended"))
        session.commit()

    response = client.get("/api/v2/users/me", headers=bearer(token))

    assert response.status_code == 401


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v2/nothing-here")

    assert response.status_code == 404
    assert response.is_json
    assert response.headers["X-Request-Id"]


def test_healthz_reports_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_unauthorized_carries_bearer_challenge(client: FlaskClient) -> None:
    response = client.get("/api/v2/users/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="usersecrets"'


def test_body_over_limit_is_json_413(client: FlaskClient, alice_token: str) -> None:
    limit = client.application.config["MAX_CONTENT_LENGTH"]

    response = client.post(
        "/api/v2/users",
        data=b"{" + b" " * limit + b"}",
        headers={**bearer(alice_token), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json is not None
    assert response.json["message"] == "Request body too large."
    assert str(limit) in response.json["detail"]
