"""DELETE /api/v2/users/{user}: the cascade to secrets, tokens and memberships."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiKey
from app.db.base import utcnow
from app.orgs.models import OrganizationMember
from app.secrets.models import UserSecret
from app.users.models import SiteRoleAssignment, User
from tests.users.helpers import World, audit_rows, build_world, call

OWNED_MODELS = (UserSecret, ApiKey, OrganizationMember, SiteRoleAssignment)


@pytest.fixture
def world(engine: Engine) -> World:
    world = build_world(engine)
    with Session(engine) as session:
        for username in ("tina", "mike"):
            add_secret(session, world.user_ids[username], "db-password")
        session.add(
            SiteRoleAssignment(user_id=world.user_ids["tina"], role="auditor", created_at=utcnow())
        )
        session.commit()
    return world


def add_secret(session: Session, user_id: uuid.UUID, name: str) -> None:
    now = utcnow()
    session.add(UserSecret(user_id=user_id, name=name, value="v", created_at=now, updated_at=now))


def count_rows_of(
    engine: Engine,
    model: type[UserSecret | ApiKey | OrganizationMember | SiteRoleAssignment],
    user_id: uuid.UUID,
) -> int:
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))
            or 0
        )


@pytest.mark.parametrize("model", OWNED_MODELS, ids=lambda model: model.__tablename__)
def test_delete_user_cascades_owned_rows(
    client: FlaskClient, engine: Engine, world: World, model: type[UserSecret]
) -> None:
    tina_id = world.user_ids["tina"]
    assert count_rows_of(engine, model, tina_id) > 0

    response = call(client, "DELETE", "/api/v2/users/tina", world.tokens["owner"])

    assert response.status_code == 204
    assert count_rows_of(engine, model, tina_id) == 0


@pytest.mark.parametrize("model", OWNED_MODELS, ids=lambda model: model.__tablename__)
def test_delete_user_keeps_other_users_rows(
    client: FlaskClient, engine: Engine, world: World, model: type[UserSecret]
) -> None:
    # mike has no site role or membership, so olivia (an owner) and adam (in acme) cover
    # those tables.
    other_ids = [world.user_ids["mike"], world.user_ids["olivia"], world.user_ids["adam"]]
    before = sum(count_rows_of(engine, model, user_id) for user_id in other_ids)

    response = call(client, "DELETE", "/api/v2/users/tina", world.tokens["owner"])

    assert response.status_code == 204
    assert before > 0
    assert sum(count_rows_of(engine, model, user_id) for user_id in other_ids) == before


def test_delete_user_removes_user_row(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(client, "DELETE", "/api/v2/users/TINA", world.tokens["user-admin"])

    assert response.status_code == 204
    with Session(engine) as session:
        assert session.get(User, world.user_ids["tina"]) is None
    assert call(client, "GET", "/api/v2/users/tina", world.tokens["owner"]).status_code == 404


def test_delete_user_writes_one_audit_row(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    response = call(client, "DELETE", "/api/v2/users/tina", world.tokens["owner"])

    assert response.status_code == 204
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].action == "delete"
    assert rows[0].resource_id == str(world.user_ids["tina"])
    assert rows[0].diff["username"] == {"old": "tina", "new": None}
    assert rows[0].additional_fields == {
        "deleted_with_user": {"user_secrets": 1, "api_keys": 2, "organization_members": 1}
    }


def test_delete_user_token_stops_working(client: FlaskClient, world: World) -> None:
    response = call(client, "DELETE", "/api/v2/users/tina", world.tokens["owner"])

    assert response.status_code == 204
    assert call(client, "GET", "/api/v2/users/me", world.tokens["self"]).status_code == 401


def test_delete_user_last_owner_is_409(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(client, "DELETE", "/api/v2/users/olivia", world.tokens["owner"])

    assert response.status_code == 409
    assert audit_rows(engine) == []
    with Session(engine) as session:
        assert session.get(User, world.user_ids["olivia"]) is not None


def test_delete_user_owner_with_successor(client: FlaskClient, world: World) -> None:
    owner = world.tokens["owner"]
    granted = call(client, "PATCH", "/api/v2/users/audrey", owner, {"site_roles": ["owner"]})
    assert granted.status_code == 200

    response = call(client, "DELETE", "/api/v2/users/olivia", world.tokens["user-admin"])

    assert response.status_code == 204


def test_delete_user_unknown_is_404(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(client, "DELETE", f"/api/v2/users/{uuid.uuid4()}", world.tokens["owner"])

    assert response.status_code == 404
    assert audit_rows(engine) == []
