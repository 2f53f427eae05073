"""POST /api/v2/users: creation, naming rules, conflicts and request bodies."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.users.models import User
from tests.support.factories import bearer, make_token, make_user
from tests.users.helpers import audit_rows, call, count_audit_rows, validation_fields

# A marker that must never come back in an error body.
SUBMITTED_VALUE = "submitted-value-7d3a"


@pytest.fixture
def owner_token(engine: Engine) -> str:
    with Session(engine) as session:
        token = make_token(session, make_user(session, "olivia", site_roles=["owner"]))
        make_user(session, "alice")
        session.commit()
    return token


def count_users(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def test_create_user_returns_201_and_location(client: FlaskClient, owner_token: str) -> None:
    response = call(
        client, "POST", "/api/v2/users", owner_token, {"username": "Bob", "email": "bob@x.test"}
    )

    assert response.status_code == 201
    assert response.json is not None
    assert response.json["username"] == "Bob"
    assert response.json["email"] == "bob@x.test"
    assert response.json["status"] == "active"
    assert response.json["site_roles"] == []
    assert response.headers["Location"] == f"/api/v2/users/{response.json['id']}"
    fetched = call(client, "GET", response.headers["Location"], owner_token)
    assert fetched.json == response.json


def test_create_user_writes_one_audit_row(
    client: FlaskClient, engine: Engine, owner_token: str
) -> None:
    response = call(
        client, "POST", "/api/v2/users", owner_token, {"username": "bob", "email": "bob@x.test"}
    )

    assert response.status_code == 201
    assert response.json is not None
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].action == "create"
    assert rows[0].resource_type == "user"
    assert rows[0].resource_id == response.json["id"]
    assert rows[0].diff["username"] == {"old": None, "new": "bob"}


def test_create_user_with_suspended_status(client: FlaskClient, owner_token: str) -> None:
    body = {"username": "bob", "email": "bob@x.test", "status": "suspended"}

    response = call(client, "POST", "/api/v2/users", owner_token, body)

    assert response.status_code == 201
    assert response.json is not None
    assert response.json["status"] == "suspended"


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("alice", id="same-case"),
        pytest.param("ALICE", id="upper-case"),
        pytest.param("Alice", id="mixed-case"),
    ],
)
def test_create_user_taken_username_is_409(
    client: FlaskClient, engine: Engine, owner_token: str, username: str
) -> None:
    users_before = count_users(engine)
    audit_before = count_audit_rows(engine)

    response = call(
        client, "POST", "/api/v2/users", owner_token, {"username": username, "email": "a@x.test"}
    )

    assert response.status_code == 409
    assert validation_fields(response) == ["username"]
    assert count_users(engine) == users_before
    assert count_audit_rows(engine) == audit_before


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("me", id="me"),
        pytest.param("ME", id="me-upper"),
        pytest.param(str(uuid.uuid4()), id="uuid"),
        pytest.param(str(uuid.uuid4()).upper(), id="uuid-upper"),
        pytest.param(uuid.uuid4().hex, id="uuid-hex"),
    ],
)
def test_create_user_reserved_username_is_400(
    client: FlaskClient, engine: Engine, owner_token: str, username: str
) -> None:
    response = call(
        client, "POST", "/api/v2/users", owner_token, {"username": username, "email": "a@x.test"}
    )

    assert response.status_code == 400
    assert validation_fields(response) == ["username"]
    assert count_audit_rows(engine) == 0


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("", id="empty"),
        pytest.param("-alice", id="leading-dash"),
        pytest.param("a" * 65, id="too-long"),
        pytest.param("al ice", id="space"),
        pytest.param("ålice", id="non-ascii"),
        pytest.param("al\x00ice", id="nul"),
        pytest.param("al/ice", id="slash"),
    ],
)
def test_create_user_invalid_username_is_400(
    client: FlaskClient, owner_token: str, username: str
) -> None:
    response = call(
        client, "POST", "/api/v2/users", owner_token, {"username": username, "email": "a@x.test"}
    )

    assert response.status_code == 400
    assert validation_fields(response) == ["username"]


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("", id="empty"),
        pytest.param("no-at-sign", id="no-at"),
        pytest.param("@x.test", id="no-local-part"),
        pytest.param("a@", id="no-domain"),
        pytest.param("a b@x.test", id="space"),
        pytest.param("a\x00@x.test", id="nul"),
        pytest.param("a@@x.test", id="two-at-signs"),
        pytest.param("a" * 65 + "@x.test", id="local-part-too-long"),
        pytest.param("a@" + "x" * 320, id="too-long"),
    ],
)
def test_create_user_invalid_email_is_400(
    client: FlaskClient, owner_token: str, email: str
) -> None:
    response = call(
        client, "POST", "/api/v2/users", owner_token, {"username": "bob", "email": email}
    )

    assert response.status_code == 400
    assert validation_fields(response) == ["email"]


def test_create_user_lone_surrogate_is_400(client: FlaskClient, owner_token: str) -> None:
    # A lone surrogate is valid JSON but cannot be encoded as UTF-8 for the database.
    data = '{"username": "bob", "email": "a\\ud800@x.test"}'

    response = client.post(
        "/api/v2/users", data=data, content_type="application/json", headers=bearer(owner_token)
    )

    assert response.status_code == 400
    assert validation_fields(response) == ["email"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, ["email", "username"], id="empty-object"),
        pytest.param({"username": "bob"}, ["email"], id="missing-email"),
        pytest.param(
            {"username": "bob", "email": "b@x.test", "role": "owner"}, ["role"], id="unknown-field"
        ),
        pytest.param(
            {"username": "bob", "email": "b@x.test", "site_roles": ["owner"]},
            ["site_roles"],
            id="site-roles-not-accepted",
        ),
        pytest.param({"username": 5, "email": "b@x.test"}, ["username"], id="username-number"),
        pytest.param({"username": "bob", "email": None}, ["email"], id="email-null"),
        pytest.param(
            {"username": "bob", "email": "b@x.test", "status": "deleted"},
            ["status"],
            id="unknown-status",
        ),
        pytest.param(
            {"username": "me", "email": "nope", "status": 1},
            ["username", "email", "status"],
            id="every-field-wrong",
        ),
    ],
)
def test_create_user_invalid_fields_listed(
    client: FlaskClient, owner_token: str, body: dict[str, object], fields: list[str]
) -> None:
    response = call(client, "POST", "/api/v2/users", owner_token, body)

    assert response.status_code == 400
    assert validation_fields(response) == fields


def test_create_user_errors_never_echo_values(client: FlaskClient, owner_token: str) -> None:
    body = {"username": SUBMITTED_VALUE + " x", "email": SUBMITTED_VALUE, "status": SUBMITTED_VALUE}

    response = call(client, "POST", "/api/v2/users", owner_token, body)

    assert response.status_code == 400
    assert SUBMITTED_VALUE not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        pytest.param('{"username": "bob"}', None, 415, id="no-content-type"),
        pytest.param('{"username": "bob"}', "text/plain", 415, id="text-plain"),
        pytest.param("username=bob", "application/x-www-form-urlencoded", 415, id="form"),
        pytest.param('{"username": ', "application/json", 415, id="malformed-json"),
        pytest.param("", "application/json", 415, id="empty-body"),
        pytest.param(b"\xff\xfe{}", "application/json", 415, id="invalid-utf8"),
        pytest.param('{"n": NaN}', "application/json", 415, id="nan"),
        pytest.param("[" * 100_000 + "]" * 100_000, "application/json", 415, id="deep-nesting"),
        pytest.param('["bob"]', "application/json", 400, id="array"),
        pytest.param('"bob"', "application/json", 400, id="string"),
        pytest.param("null", "application/json", 400, id="null"),
    ],
)
def test_create_user_bad_body_status(
    client: FlaskClient,
    engine: Engine,
    owner_token: str,
    data: str | bytes,
    content_type: str | None,
    status: int,
) -> None:
    response = client.post(
        "/api/v2/users", data=data, content_type=content_type, headers=bearer(owner_token)
    )

    assert response.status_code == status
    assert response.is_json
    assert count_audit_rows(engine) == 0


def test_create_user_unknown_field_name_not_echoed(client: FlaskClient, owner_token: str) -> None:
    body = {"username": "bob", "email": "b@x.test", "x\x00" + SUBMITTED_VALUE: 1}

    response = call(client, "POST", "/api/v2/users", owner_token, body)

    assert response.status_code == 400
    assert validation_fields(response) == ["<unrecognized field name>"]
    assert SUBMITTED_VALUE not in response.get_data(as_text=True)


def test_create_user_without_token_is_401(client: FlaskClient, owner_token: str) -> None:
    response = client.post("/api/v2/users", json={"username": "bob", "email": "b@x.test"})

    assert response.status_code == 401
