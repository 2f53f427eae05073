"""/api/v2/organizations: organizations, memberships, conflicts and cascades."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.auth.tokens import load_actor
from app.authz import count_decisions
from app.orgs import store
from app.orgs.models import Organization, OrganizationMember
from app.users.models import User
from tests.users.helpers import (
    World,
    audit_rows,
    build_world,
    call,
    count_audit_rows,
    validation_fields,
)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def count_members(engine: Engine, org_id: uuid.UUID) -> int:
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OrganizationMember)
                .where(OrganizationMember.organization_id == org_id)
            )
            or 0
        )


def test_create_organization_returns_201(client: FlaskClient, world: World) -> None:
    owner = world.tokens["owner"]

    response = call(client, "POST", "/api/v2/organizations", owner, {"name": "Initech"})

    assert response.status_code == 201
    assert response.json is not None
    assert set(response.json) == {"id", "name", "created_at", "updated_at"}
    assert response.json["name"] == "Initech"
    assert response.headers["Location"] == f"/api/v2/organizations/{response.json['id']}"
    assert call(client, "GET", "/api/v2/organizations/initech", owner).json == response.json


@pytest.mark.parametrize("name", ["acme", "ACME", "Acme"])
def test_create_organization_taken_name_is_409(
    client: FlaskClient, engine: Engine, world: World, name: str
) -> None:
    response = call(client, "POST", "/api/v2/organizations", world.tokens["owner"], {"name": name})

    assert response.status_code == 409
    assert validation_fields(response) == ["name"]
    assert count_audit_rows(engine) == 0


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(str(uuid.uuid4()), id="uuid"),
        pytest.param("", id="empty"),
        pytest.param("a" * 65, id="too-long"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a/b", id="slash"),
        pytest.param(7, id="number"),
    ],
)
def test_create_organization_invalid_name_is_400(
    client: FlaskClient, world: World, name: object
) -> None:
    response = call(client, "POST", "/api/v2/organizations", world.tokens["owner"], {"name": name})

    assert response.status_code == 400
    assert validation_fields(response) == ["name"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, ["name"], id="missing-name"),
        pytest.param({"name": "x", "id": "y"}, ["id"], id="unknown-field"),
    ],
)
def test_create_organization_bad_body_is_400(
    client: FlaskClient, world: World, body: dict[str, object], fields: list[str]
) -> None:
    response = call(client, "POST", "/api/v2/organizations", world.tokens["owner"], body)

    assert response.status_code == 400
    assert validation_fields(response) == fields


def test_rename_organization_to_taken_name_is_409(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    response = call(
        client, "PATCH", "/api/v2/organizations/acme", world.tokens["owner"], {"name": "GLOBEX"}
    )

    assert response.status_code == 409
    assert validation_fields(response) == ["name"]
    assert count_audit_rows(engine) == 0
    assert (
        call(client, "GET", "/api/v2/organizations/acme", world.tokens["owner"]).status_code == 200
    )


def test_rename_organization_changes_case(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    response = call(
        client, "PATCH", "/api/v2/organizations/acme", world.tokens["org-admin"], {"name": "ACME"}
    )

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["name"] == "ACME"
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].diff == {"name": {"old": "acme", "new": "ACME"}}


def test_delete_organization_cascades_members(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    assert count_members(engine, world.acme_id) == 3

    response = call(client, "DELETE", "/api/v2/organizations/acme", world.tokens["owner"])

    assert response.status_code == 204
    assert count_members(engine, world.acme_id) == 0
    assert count_members(engine, world.globex_id) == 2
    with Session(engine) as session:
        assert session.get(Organization, world.acme_id) is None
        assert session.get(User, world.user_ids["tina"]) is not None
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].additional_fields == {"deleted_with_organization": {"organization_members": 3}}


def test_delete_organization_revokes_org_roles(client: FlaskClient, world: World) -> None:
    response = call(client, "DELETE", "/api/v2/organizations/acme", world.tokens["owner"])

    assert response.status_code == 204
    orgs = call(client, "GET", "/api/v2/organizations", world.tokens["org-admin"])
    assert orgs.json == []


def test_add_member_returns_membership(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(
        client,
        "POST",
        "/api/v2/organizations/acme/members",
        world.tokens["org-admin"],
        {"username": "NEWBIE"},
    )

    assert response.status_code == 201
    assert response.json is not None
    assert response.json["organization_id"] == str(world.acme_id)
    assert response.json["user_id"] == str(world.user_ids["newbie"])
    assert response.json["username"] == "newbie"
    assert response.json["role"] == "org-member"
    assert response.headers["Location"] == (
        f"/api/v2/organizations/{world.acme_id}/members/{world.user_ids['newbie']}"
    )
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].resource_type == "organization_member"
    assert rows[0].organization_id == world.acme_id
    assert rows[0].resource_owner_id == world.user_ids["newbie"]


def test_add_member_twice_is_409(client: FlaskClient, engine: Engine, world: World) -> None:
    response = call(
        client,
        "POST",
        "/api/v2/organizations/acme/members",
        world.tokens["owner"],
        {"username": "tina"},
    )

    assert response.status_code == 409
    assert validation_fields(response) == ["username"]
    assert count_audit_rows(engine) == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({"username": "nobody"}, ["username"], id="unknown-user"),
        pytest.param({"username": "me"}, ["username"], id="me"),
        pytest.param({"username": "ME"}, ["username"], id="me-upper"),
        pytest.param({"username": "a\x00"}, ["username"], id="nul"),
        pytest.param({"username": "newbie", "role": "owner"}, ["role"], id="site-role"),
        pytest.param({"username": "newbie", "role": None}, ["role"], id="null-role"),
        pytest.param({"role": "org-member"}, ["username"], id="missing-username"),
    ],
)
def test_add_member_invalid_body_is_400(
    client: FlaskClient, engine: Engine, world: World, body: dict[str, object], fields: list[str]
) -> None:
    response = call(
        client, "POST", "/api/v2/organizations/acme/members", world.tokens["owner"], body
    )

    assert response.status_code == 400
    assert validation_fields(response) == fields
    assert count_audit_rows(engine) == 0


def test_add_member_by_user_id_is_400(client: FlaskClient, world: World) -> None:
    body = {"username": str(world.user_ids["newbie"])}

    response = call(
        client, "POST", "/api/v2/organizations/acme/members", world.tokens["owner"], body
    )

    assert response.status_code == 400
    assert validation_fields(response) == ["username"]


def test_add_member_unknown_user_hidden_from_non_admin(client: FlaskClient, world: World) -> None:
    response = call(
        client,
        "POST",
        "/api/v2/organizations/acme/members",
        world.tokens["org-member"],
        {"username": "nobody"},
    )

    assert response.status_code == 403


def test_granted_org_admin_applies_next_request(client: FlaskClient, world: World) -> None:
    mona = world.tokens["org-member"]
    rename = {"name": "acme-two"}
    assert call(client, "PATCH", "/api/v2/organizations/acme", mona, rename).status_code == 403

    granted = call(
        client,
        "PATCH",
        "/api/v2/organizations/acme/members/mona",
        world.tokens["org-admin"],
        {"role": "org-admin"},
    )
    assert granted.status_code == 200
    assert granted.json is not None
    assert granted.json["role"] == "org-admin"
    assert call(client, "PATCH", "/api/v2/organizations/acme", mona, rename).status_code == 200

    revoked = call(
        client,
        "PATCH",
        "/api/v2/organizations/acme-two/members/mona",
        world.tokens["org-admin"],
        {"role": "org-member"},
    )
    assert revoked.status_code == 200
    back = {"name": "acme"}
    assert call(client, "PATCH", "/api/v2/organizations/acme-two", mona, back).status_code == 403


def test_removed_member_loses_access_next_request(client: FlaskClient, world: World) -> None:
    mona = world.tokens["org-member"]
    assert call(client, "GET", "/api/v2/organizations/acme", mona).status_code == 200

    removed = call(
        client, "DELETE", "/api/v2/organizations/acme/members/mona", world.tokens["org-admin"]
    )

    assert removed.status_code == 204
    assert call(client, "GET", "/api/v2/organizations/acme", mona).status_code == 404


def test_set_member_role_writes_one_audit_row(
    client: FlaskClient, engine: Engine, world: World
) -> None:
    response = call(
        client,
        "PATCH",
        f"/api/v2/organizations/{world.acme_id}/members/{world.user_ids['tina']}",
        world.tokens["owner"],
        {"role": "org-admin"},
    )

    assert response.status_code == 200
    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].action == "write"
    assert rows[0].diff == {"role": {"old": "org-member", "new": "org-admin"}}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing-role"),
        pytest.param({"role": "admin"}, id="unknown-role"),
        pytest.param({"role": "org-admin", "username": "x"}, id="unknown-field"),
    ],
)
def test_set_member_role_invalid_body_is_400(
    client: FlaskClient, world: World, body: dict[str, object]
) -> None:
    response = call(
        client, "PATCH", "/api/v2/organizations/acme/members/tina", world.tokens["owner"], body
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v2/organizations/acme/members/newbie", id="not-a-member"),
        pytest.param("/api/v2/organizations/acme/members/nobody", id="unknown-user"),
        pytest.param("/api/v2/organizations/acme/members/%00", id="nul-user"),
        pytest.param("/api/v2/organizations/nothing/members/tina", id="unknown-org"),
        pytest.param("/api/v2/organizations/%00/members/tina", id="nul-org"),
    ],
)
def test_get_member_missing_is_404(client: FlaskClient, world: World, path: str) -> None:
    response = call(client, "GET", path, world.tokens["owner"])

    assert response.status_code == 404


def test_list_organizations_makes_one_decision(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        actor = load_actor(session, session.get_one(User, world.user_ids["adam"]))

        with count_decisions() as decisions:
            orgs = store.list_organizations(session, actor)

    assert [org.name for org in orgs] == ["acme"]
    assert decisions[0] == 1


def test_get_organization_makes_one_decision(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        actor = load_actor(session, session.get_one(User, world.user_ids["adam"]))

        with count_decisions() as decisions:
            store.get_organization(session, actor, "acme")

    assert decisions[0] == 1


def test_list_members_makes_two_decisions(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        actor = load_actor(session, session.get_one(User, world.user_ids["adam"]))

        with count_decisions() as decisions:
            members = store.list_members(session, actor, "acme")

    assert len(members) == 3
    # The organization's read, and the membership list scope.
    assert decisions[0] == 2
