"""Who may call each token endpoint, with the expected statuses read from roles/matrix.csv."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.users.helpers import ACTOR_KINDS, EndpointCase, build_world, call, count_audit_rows

TINA_READ = ("tina", "user", "read")
TOKEN_READ = ("tina-token", "api_key", "read")

TOKEN_CASES = {
    "create-token": EndpointCase(
        "POST",
        "/api/v2/users/tina/tokens",
        {"lifetime_days": 7},
        (TINA_READ,),
        (("tina-token", "api_key", "create"),),
        201,
    ),
    "list-tokens": EndpointCase(
        "GET", "/api/v2/users/tina/tokens", None, (TINA_READ,), (TOKEN_READ,), 200
    ),
    "get-token": EndpointCase(
        "GET", "/api/v2/users/tina/tokens/{spare}", None, (TINA_READ, TOKEN_READ), (), 200
    ),
    "delete-token": EndpointCase(
        "DELETE",
        "/api/v2/users/tina/tokens/{spare}",
        None,
        (TINA_READ, TOKEN_READ),
        (("tina-token", "api_key", "delete"),),
        204,
    ),
}


@pytest.mark.parametrize("actor_kind", ACTOR_KINDS)
@pytest.mark.parametrize("case_name", list(TOKEN_CASES))
def test_tokens_endpoint_follows_matrix(
    client: FlaskClient, engine: Engine, case_name: str, actor_kind: str
) -> None:
    world = build_world(engine)
    case = TOKEN_CASES[case_name]
    path = case.path.format(spare=world.tina_spare_token_id)
    audit_rows_before = count_audit_rows(engine)

    response = call(client, case.method, path, world.tokens[actor_kind], case.body)

    expected = case.expected_status(actor_kind)
    assert response.status_code == expected
    if case.is_mutation:
        expected_new_rows = 1 if expected < 300 else 0
        assert count_audit_rows(engine) - audit_rows_before == expected_new_rows
