"""Who may call each organization endpoint, with expected statuses from roles/matrix.csv."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.users.helpers import (
    ACTOR_KINDS,
    EndpointCase,
    build_world,
    call,
    count_audit_rows,
    expected_allowed,
    format_path,
)

ACME_READ = ("acme", "organization", "read")
MEMBER_READ = ("tina@acme", "organization_member", "read")

ORGANIZATION_CASES = {
    "get-org": EndpointCase("GET", "/api/v2/organizations/acme", None, (ACME_READ,), (), 200),
    "get-org-any-case": EndpointCase(
        "GET", "/api/v2/organizations/ACME", None, (ACME_READ,), (), 200
    ),
    "get-org-by-id": EndpointCase(
        "GET", "/api/v2/organizations/{acme_id}", None, (ACME_READ,), (), 200
    ),
    "rename-org": EndpointCase(
        "PATCH",
        "/api/v2/organizations/acme",
        {"name": "acme-corp"},
        (ACME_READ,),
        (("acme", "organization", "update"),),
        200,
    ),
    "delete-org": EndpointCase(
        "DELETE",
        "/api/v2/organizations/acme",
        None,
        (ACME_READ,),
        (("acme", "organization", "delete"),),
        204,
    ),
    "create-org": EndpointCase(
        "POST",
        "/api/v2/organizations",
        {"name": "initech"},
        (),
        (("new", "organization", "create"),),
        201,
    ),
    "list-members": EndpointCase(
        "GET",
        "/api/v2/organizations/acme/members",
        None,
        (ACME_READ,),
        (("newbie@acme", "organization_member", "read"),),
        200,
    ),
    "get-member": EndpointCase(
        "GET", "/api/v2/organizations/acme/members/tina", None, (ACME_READ, MEMBER_READ), (), 200
    ),
    "add-member": EndpointCase(
        "POST",
        "/api/v2/organizations/acme/members",
        {"username": "newbie"},
        (ACME_READ,),
        (("newbie@acme", "organization_member", "create"),),
        201,
    ),
    "add-org-admin": EndpointCase(
        "POST",
        "/api/v2/organizations/acme/members",
        {"username": "newbie", "role": "org-admin"},
        (ACME_READ,),
        (
            ("newbie@acme", "organization_member", "create"),
            ("newbie@acme", "organization_member", "assign_role"),
        ),
        201,
    ),
    "add-unknown-user": EndpointCase(
        "POST",
        "/api/v2/organizations/acme/members",
        {"username": "nobody"},
        (ACME_READ,),
        (("newbie@acme", "organization_member", "create"),),
        400,
    ),
    "set-member-role": EndpointCase(
        "PATCH",
        "/api/v2/organizations/acme/members/tina",
        {"role": "org-admin"},
        (ACME_READ, MEMBER_READ),
        (("tina@acme", "organization_member", "assign_role"),),
        200,
    ),
    "remove-member": EndpointCase(
        "DELETE",
        "/api/v2/organizations/acme/members/tina",
        None,
        (ACME_READ, MEMBER_READ),
        (("tina@acme", "organization_member", "delete"),),
        204,
    ),
}


@pytest.mark.parametrize("actor_kind", ACTOR_KINDS)
@pytest.mark.parametrize("case_name", list(ORGANIZATION_CASES))
def test_organizations_endpoint_follows_matrix(
    client: FlaskClient, engine: Engine, case_name: str, actor_kind: str
) -> None:
    world = build_world(engine)
    case = ORGANIZATION_CASES[case_name]
    audit_rows_before = count_audit_rows(engine)

    response = call(
        client, case.method, format_path(case.path, world), world.tokens[actor_kind], case.body
    )

    expected = case.expected_status(actor_kind)
    assert response.status_code == expected
    if case.is_mutation:
        expected_new_rows = 1 if expected < 300 else 0
        assert count_audit_rows(engine) - audit_rows_before == expected_new_rows


@pytest.mark.parametrize("actor_kind", ACTOR_KINDS)
def test_organizations_list_matches_single_reads(
    client: FlaskClient, engine: Engine, actor_kind: str
) -> None:
    world = build_world(engine)
    token = world.tokens[actor_kind]

    response = call(client, "GET", "/api/v2/organizations", token)

    assert response.status_code == 200
    assert response.json is not None
    listed = [org["name"] for org in response.json]
    readable = [
        name
        for name in ("acme", "globex")
        if call(client, "GET", f"/api/v2/organizations/{name}", token).status_code == 200
    ]
    assert listed == readable
    assert ("acme" in listed) == expected_allowed(actor_kind, "acme", "organization", "read")


ACME_MEMBER_LIST_READERS = [
    kind for kind in ACTOR_KINDS if ORGANIZATION_CASES["list-members"].expected_status(kind) == 200
]


@pytest.mark.parametrize("actor_kind", ACME_MEMBER_LIST_READERS)
def test_members_list_matches_single_reads(
    client: FlaskClient, engine: Engine, actor_kind: str
) -> None:
    world = build_world(engine)
    token = world.tokens[actor_kind]

    response = call(client, "GET", "/api/v2/organizations/acme/members", token)

    assert response.status_code == 200
    assert response.json is not None
    listed = [member["username"] for member in response.json]
    readable = [
        username
        for username in sorted(world.user_ids)
        if call(client, "GET", f"/api/v2/organizations/acme/members/{username}", token).status_code
        == 200
    ]
    assert listed == readable
    assert listed == ["adam", "mona", "tina"]
