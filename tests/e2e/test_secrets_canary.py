"""A secret value never leaves the server: not in a response, a header or a log line.

Distinct canary values go through create, update, list and delete, and through the
error paths that receive a value (conflict, invalid field, stale version), against the
real server process logging at DEBUG.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from tests.support.factories import make_token, make_user
from tests.support.server import ServerProcess, service_env

pytestmark = pytest.mark.e2e

CANARY = "canary-5b0e2f7c"
SECRETS = "/api/v2/users/me/secrets"


def leaks(response: httpx.Response) -> list[str]:
    """Return where in `response` a canary appears: the body or a header."""
    found = []
    if CANARY in response.text:
        found.append(f"{response.request.method} {response.request.url.path}: body")
    for name, value in response.headers.items():
        if CANARY in name or CANARY in value:
            found.append(f"{response.request.method} {response.request.url.path}: {name}")
    return found


def test_secrets_canary_never_leaves_server(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    with Session(engine) as session:
        token = make_token(session, make_user(session, "alice"))
        session.commit()
    env = service_env(database_url, tmp_path / "data", {"USERSECRETS_LOG_LEVEL": "DEBUG"})
    headers = {"Authorization": f"Bearer {token}"}

    with ServerProcess(env) as server, httpx.Client(base_url=server.url, headers=headers) as http:
        item = f"{SECRETS}/db-password"
        fields = {"name": "db-password", "value": CANARY + "-1", "env_name": "DB_PASSWORD"}
        responses = [
            http.post(SECRETS, json=fields),
            http.post(SECRETS, json=fields),
            http.post(SECRETS, json={**fields, "name": "other", "value": CANARY + "\0"}),
            http.post(SECRETS, json={**fields, "name": "x" * 100, "value": [CANARY]}),
            http.get(item),
            http.get(SECRETS),
            http.patch(item, json={"value": CANARY + "-2"}, headers={"If-Match": '"1"'}),
            http.patch(item, json={"value": CANARY + "-3"}, headers={"If-Match": '"1"'}),
            http.patch(item, json={"value": CANARY + "-4", "name": "renamed"}),
            http.patch(item, json={"value": CANARY * 20_000}),
            http.get(SECRETS),
            http.delete(item),
            http.patch(item, json={"value": CANARY + "-5"}),
        ]
        output = server.output

    assert [response.status_code for response in responses] == [
        201,
        409,
        400,
        400,
        200,
        200,
        200,
        412,
        400,
        400,
        200,
        204,
        404,
    ]
    assert [leak for response in responses for leak in leaks(response)] == []
    assert f"path={SECRETS} status=201" in output
    assert CANARY not in output
