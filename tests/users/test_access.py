"""Who may call each users endpoint, with the expected statuses read from roles/matrix.csv."""

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

TINA_READ = ("tina", "user", "read")

USER_CASES = {
    "get-user": EndpointCase("GET", "/api/v2/users/tina", None, (TINA_READ,), (), 200),
    "get-user-by-id": EndpointCase("GET", "/api/v2/users/{tina_id}", None, (TINA_READ,), (), 200),
    "patch-email": EndpointCase(
        "PATCH",
        "/api/v2/users/tina",
        {"email": "tina@new.test"},
        (TINA_READ,),
        (("tina", "user", "update"),),
        200,
    ),
    "patch-status": EndpointCase(
        "PATCH",
        "/api/v2/users/tina",
        {"status": "suspended"},
        (TINA_READ,),
        (("tina", "user", "update"),),
        200,
    ),
    "patch-site-roles": EndpointCase(
        "PATCH",
        "/api/v2/users/tina",
        {"site_roles": ["auditor"]},
        (TINA_READ,),
        (("tina", "user", "assign_role"),),
        200,
    ),
    "patch-email-and-roles": EndpointCase(
        "PATCH",
        "/api/v2/users/tina",
        {"email": "tina@new.test", "site_roles": ["owner"]},
        (TINA_READ,),
        (("tina", "user", "update"), ("tina", "user", "assign_role")),
        200,
    ),
    "delete-user": EndpointCase(
        "DELETE", "/api/v2/users/tina", None, (TINA_READ,), (("tina", "user", "delete"),), 204
    ),
    "create-user": EndpointCase(
        "POST",
        "/api/v2/users",
        {"username": "zed", "email": "zed@x.test"},
        (),
        (("new", "user", "create"),),
        201,
    ),
}


@pytest.mark.parametrize("actor_kind", ACTOR_KINDS)
@pytest.mark.parametrize("case_name", list(USER_CASES))
def test_users_endpoint_follows_matrix(
    client: FlaskClient, engine: Engine, case_name: str, actor_kind: str
) -> None:
    world = build_world(engine)
    case = USER_CASES[case_name]
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
def test_users_list_matches_single_reads(
    client: FlaskClient, engine: Engine, actor_kind: str
) -> None:
    world = build_world(engine)
    token = world.tokens[actor_kind]

    response = call(client, "GET", "/api/v2/users", token)

    assert response.status_code == 200
    assert response.json is not None
    listed = [user["username"] for user in response.json]
    readable = [
        username
        for username in sorted(world.user_ids)
        if call(client, "GET", f"/api/v2/users/{username}", token).status_code == 200
    ]
    assert listed == sorted(readable)
    assert ("tina" in listed) == expected_allowed(actor_kind, "tina", "user", "read")
