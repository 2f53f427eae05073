"""PATCH /api/v2/users/{user}: profile fields, site roles, and the last-owner rule."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.users.store import site_roles_of
from tests.users.helpers import World, audit_rows, build_world, call, validation_fields


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def roles_of(engine: Engine, world: World, username: str) -> list[str]:
    with Session(engine) as session:
        return site_roles_of(session, world.user_ids[username])


def test_update_user_changes_email(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(
        client, "PATCH", "/api/v2/users/tina", world.tokens["self"], {"email": "t@new.test"}
    )

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["email"] == "t@new.test"
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].action == "write"
    assert rows[0].diff == {"email": {"old": "tina@x.test", "new": "t@new.test"}}


def test_update_user_me_reference(client: FlaskClient, world: World) -> None:
    response = call(
        client, "PATCH", "/api/v2/users/me", world.tokens["self"], {"email": "t@m.test"}
    )

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["username"] == "tina"


def test_update_user_sets_site_roles(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(
        client,
        "PATCH",
        "/api/v2/users/tina",
        world.tokens["owner"],
        {"site_roles": ["user-admin", "auditor"]},
    )

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["site_roles"] == ["auditor", "user-admin"]
    assert roles_of(engine, world, "tina") == ["auditor", "user-admin"]
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].additional_fields == {
        "site_roles": {"old": [], "new": ["auditor", "user-admin"]}
    }


def test_update_user_removes_site_roles(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(
        client, "PATCH", "/api/v2/users/audrey", world.tokens["owner"], {"site_roles": []}
    )

    assert response.status_code == 200
    assert roles_of(engine, world, "audrey") == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"site_roles": ["owner"]}, id="roles-only"),
        pytest.param({"email": "t@new.test", "site_roles": ["owner"]}, id="with-email"),
    ],
)
def test_update_user_self_cannot_grant_roles(
    client: FlaskClient, engine: Engine, world: World, body: dict[str, object]
) -> None:
    response = call(client, "PATCH", "/api/v2/users/tina", world.tokens["self"], body)

    assert response.status_code == 403
    assert roles_of(engine, world, "tina") == []
    assert audit_rows(engine) == []


def test_update_user_admin_cannot_grant_own_roles(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    response = call(
        client,
        "PATCH",
        "/api/v2/users/ursula",
        world.tokens["user-admin"],
        {"site_roles": ["owner"]},
    )

    assert response.status_code == 403
    assert roles_of(engine, world, "ursula") == ["user-admin"]


def test_update_user_granted_role_applies_next_request(client: FlaskClient, world: World) -> None:
    tina = world.tokens["self"]
    assert call(client, "GET", "/api/v2/users/mike", tina).status_code == 404

    granted = call(
        client, "PATCH", "/api/v2/users/tina", world.tokens["owner"], {"site_roles": ["auditor"]}
    )
    assert granted.status_code == 200
    assert call(client, "GET", "/api/v2/users/mike", tina).status_code == 200

    revoked = call(client, "PATCH", "/api/v2/users/tina", world.tokens["owner"], {"site_roles": []})
    assert revoked.status_code == 200
    assert call(client, "GET", "/api/v2/users/mike", tina).status_code == 404


def test_update_user_suspension_applies_next_request(client: FlaskClient, world: World) -> None:
    response = call(
        client, "PATCH", "/api/v2/users/tina", world.tokens["user-admin"], {"status": "suspended"}
    )

    assert response.status_code == 200
    assert call(client, "GET", "/api/v2/users/me", world.tokens["self"]).status_code == 401


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({"site_roles": ["admin"]}, ["site_roles"], id="unknown-role"),
        pytest.param({"site_roles": ["member"]}, ["site_roles"], id="implicit-role"),
        pytest.param({"site_roles": ["owner", "owner"]}, ["site_roles"], id="duplicate"),
        pytest.param({"site_roles": "owner"}, ["site_roles"], id="not-a-list"),
        pytest.param({"site_roles": [1]}, ["site_roles"], id="not-strings"),
        pytest.param({"status": "deleted"}, ["status"], id="unknown-status"),
        pytest.param({"email": "nope"}, ["email"], id="invalid-email"),
        pytest.param({"username": "tina2"}, ["username"], id="username-not-writable"),
        pytest.param({"email": 1, "status": None}, ["email", "status"], id="two-fields"),
    ],
)
def test_update_user_invalid_body_is_400(
    client: FlaskClient, engine: Engine, world: World, body: dict[str, object], fields: list[str]
) -> None:
    response = call(client, "PATCH", "/api/v2/users/tina", world.tokens["owner"], body)

    assert response.status_code == 400
    assert validation_fields(response) == fields
    assert audit_rows(engine) == []


def test_update_user_empty_body_is_400(client: FlaskClient, world: World) -> None:
    response = call(client, "PATCH", "/api/v2/users/tina", world.tokens["owner"], {})

    assert response.status_code == 400


def test_update_user_unknown_user_is_404(client: FlaskClient, world: World) -> None:
    response = call(
        client, "PATCH", "/api/v2/users/nobody", world.tokens["owner"], {"email": "n@x.test"}
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"site_roles": []}, id="drop-owner-role"),
        pytest.param({"status": "suspended"}, id="suspend"),
    ],
)
def test_update_user_last_owner_is_409(
    client: FlaskClient, engine: Engine, world: World, body: dict[str, object]
) -> None:
    response = call(client, "PATCH", "/api/v2/users/olivia", world.tokens["owner"], body)

    assert response.status_code == 409
    assert roles_of(engine, world, "olivia") == ["owner"]
    assert audit_rows(engine) == []


def test_update_user_owner_leaves_with_successor(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    owner = world.tokens["owner"]
    granted = call(client, "PATCH", "/api/v2/users/audrey", owner, {"site_roles": ["owner"]})
    assert granted.status_code == 200

    response = call(client, "PATCH", "/api/v2/users/olivia", owner, {"site_roles": []})

    assert response.status_code == 200
    assert roles_of(engine, world, "olivia") == []
    assert call(client, "GET", "/api/v2/users/mike", owner).status_code == 404


def test_update_user_suspended_owner_does_not_count(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    owner = world.tokens["owner"]
    granted = call(client, "PATCH", "/api/v2/users/audrey", owner, {"site_roles": ["owner"]})
    assert granted.status_code == 200
    suspended = call(client, "PATCH", "/api/v2/users/audrey", owner, {"status": "suspended"})
    assert suspended.status_code == 200

    response = call(client, "PATCH", "/api/v2/users/olivia", owner, {"site_roles": []})

    assert response.status_code == 409
