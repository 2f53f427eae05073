"""Audit rows of the user-secrets API: one per change, none for reads or failures.

The canary is a distinctive secret value. It must never reach an audit row, a response
body or a log line, whichever way the request ends.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import app.secrets.store as secrets_store
from app.audit.models import AuditLog
from app.secrets.models import UserSecret
from tests.audit.conftest import Person
from tests.audit.helpers import audit_rows, audit_rows_containing, count_audit_rows
from tests.support.factories import bearer, make_token, make_user
from tests.support.server import ServerProcess, service_env

CANARY = "canary-Q8v2Lx7Zp4"
UPDATED_CANARY = "canary-updated-J3k9Wd5Rt1"
SECRETS = "/api/v2/users/me/secrets"
USER_AGENT = "audit-test/1.0"
VALUE_DIFF = {"old": "", "new": "", "secret": True}


def headers(person: Person) -> dict[str, str]:
    return {**bearer(person.token), "User-Agent": USER_AGENT}


def create_secret(
    client: FlaskClient, person: Person, name: str = "db-password", env_name: str = "DB_PASSWORD"
) -> TestResponse:
    body = {"name": name, "value": CANARY, "env_name": env_name}
    return client.post(SECRETS, json=body, headers=headers(person))


def count_secrets(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(UserSecret)) or 0


def canary_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return audit_rows_containing(connection, CANARY) + audit_rows_containing(
            connection, UPDATED_CANARY
        )


@pytest.fixture
def member(people: dict[str, Person]) -> Person:
    return people["member"]


def test_secret_create_writes_one_row(client: FlaskClient, engine: Engine, member: Person) -> None:
    response = create_secret(client, member)

    assert response.status_code == 201
    rows = audit_rows(engine)
    assert len(rows) == 1
    row = rows[0]
    secret_id = response.json["id"] if response.json else None
    assert row.action == "create"
    assert row.resource_type == "user_secret"
    assert row.resource_id == secret_id
    assert row.resource_target == "db-password"
    assert row.resource_owner_id == member.id
    assert row.user_id == member.id
    assert row.api_key_id == member.token.partition("-")[0]
    assert row.user_agent == USER_AGENT
    assert row.request_id == response.headers["X-Request-Id"]
    assert row.status_code == 201
    assert row.diff == {
        "id": {"old": None, "new": secret_id},
        "user_id": {"old": None, "new": str(member.id)},
        "name": {"old": None, "new": "db-password"},
        "description": {"old": None, "new": ""},
        "value": VALUE_DIFF,
        "env_name": {"old": None, "new": "DB_PASSWORD"},
        "file_path": {"old": None, "new": ""},
    }


def test_secret_update_writes_changed_fields(
    client: FlaskClient, engine: Engine, member: Person
) -> None:
    assert create_secret(client, member).status_code == 201

    response = client.patch(
        f"{SECRETS}/db-password",
        json={"value": UPDATED_CANARY, "description": "staging"},
        headers=headers(member),
    )

    assert response.status_code == 200
    rows = audit_rows(engine)
    assert len(rows) == 2
    row = rows[1]
    assert row.action == "write"
    assert row.status_code == 200
    assert row.resource_target == "db-password"
    assert row.request_id == response.headers["X-Request-Id"]
    assert row.diff == {"description": {"old": "", "new": "staging"}, "value": VALUE_DIFF}


def test_secret_update_value_only_diff(client: FlaskClient, engine: Engine, member: Person) -> None:
    assert create_secret(client, member).status_code == 201

    response = client.patch(
        f"{SECRETS}/db-password", json={"value": UPDATED_CANARY}, headers=headers(member)
    )

    assert response.status_code == 200
    assert audit_rows(engine)[-1].diff == {"value": VALUE_DIFF}


def test_secret_delete_writes_old_values(
    client: FlaskClient, engine: Engine, member: Person
) -> None:
    created = create_secret(client, member)
    assert created.status_code == 201

    response = client.delete(f"{SECRETS}/db-password", headers=headers(member))

    assert response.status_code == 204
    rows = audit_rows(engine)
    assert len(rows) == 2
    row = rows[1]
    assert row.action == "delete"
    assert row.status_code == 204
    assert row.resource_id == (created.json or {})["id"]
    assert row.resource_owner_id == member.id
    assert row.diff == {
        "id": {"old": (created.json or {})["id"], "new": None},
        "user_id": {"old": str(member.id), "new": None},
        "name": {"old": "db-password", "new": None},
        "description": {"old": "", "new": None},
        "value": VALUE_DIFF,
        "env_name": {"old": "DB_PASSWORD", "new": None},
        "file_path": {"old": "", "new": None},
    }


def test_secret_reads_write_no_rows(client: FlaskClient, engine: Engine, member: Person) -> None:
    assert create_secret(client, member).status_code == 201

    listed = client.get(SECRETS, headers=headers(member))
    fetched = client.get(f"{SECRETS}/db-password", headers=headers(member))

    assert listed.status_code == 200
    assert fetched.status_code == 200
    assert count_audit_rows(engine) == 1


def test_secret_rows_visible_in_audit_api(
    client: FlaskClient, member: Person, people: dict[str, Person]
) -> None:
    assert create_secret(client, member).status_code == 201
    patched = client.patch(f"{SECRETS}/db-password", json={"value": "x"}, headers=headers(member))
    assert patched.status_code == 200
    deleted = client.delete(f"{SECRETS}/db-password", headers=headers(member))
    assert deleted.status_code == 204

    response = client.get(
        "/api/v2/audit-logs",
        query_string={"target_user": member.username, "resource_type": "user_secret"},
        headers=bearer(people["auditor"].token),
    )

    assert response.status_code == 200
    assert response.json is not None
    assert [row["action"] for row in response.json["audit_logs"]] == ["delete", "write", "create"]


def test_secret_cycle_keeps_canary_out_of_rows(
    client: FlaskClient, engine: Engine, member: Person
) -> None:
    assert create_secret(client, member).status_code == 201
    patched = client.patch(
        f"{SECRETS}/db-password", json={"value": UPDATED_CANARY}, headers=headers(member)
    )
    assert patched.status_code == 200
    deleted = client.delete(f"{SECRETS}/db-password", headers=headers(member))
    assert deleted.status_code == 204

    assert count_audit_rows(engine) == 3
    assert canary_rows(engine) == 0


def test_canary_search_finds_planted_value(engine: Engine) -> None:
    """The search used above finds the canary when a row does contain it."""
    with Session(engine) as session:
        session.add(
            AuditLog(
                id=uuid.uuid4(),
                action="write",
                resource_type="user_secret",
                resource_id="x",
                status_code=200,
                diff={"value": {"old": "", "new": CANARY}},
                additional_fields={},
            )
        )
        session.commit()

    assert canary_rows(engine) == 1


def test_secret_delete_missing_writes_none(
    client: FlaskClient, engine: Engine, member: Person
) -> None:
    response = client.delete(f"{SECRETS}/no-such-secret", headers=headers(member))

    assert response.status_code == 404
    assert count_audit_rows(engine) == 0


def test_secret_create_conflict_writes_none(
    client: FlaskClient, engine: Engine, member: Person
) -> None:
    assert create_secret(client, member).status_code == 201

    response = create_secret(client, member)

    assert response.status_code == 409
    assert count_audit_rows(engine) == 1
    assert CANARY not in response.get_data(as_text=True)


def test_secret_update_invalid_writes_none(
    client: FlaskClient, engine: Engine, member: Person
) -> None:
    assert create_secret(client, member).status_code == 201

    response = client.patch(
        f"{SECRETS}/db-password",
        json={"value": UPDATED_CANARY, "env_name": "PATH"},
        headers=headers(member),
    )

    assert response.status_code == 400
    assert count_audit_rows(engine) == 1
    assert UPDATED_CANARY not in response.get_data(as_text=True)


def test_secret_update_stale_version_writes_none(
    client: FlaskClient, engine: Engine, member: Person
) -> None:
    assert create_secret(client, member).status_code == 201

    response = client.patch(
        f"{SECRETS}/db-password",
        json={"value": UPDATED_CANARY},
        headers={**headers(member), "If-Match": '"7"'},
    )

    assert response.status_code == 412
    assert count_audit_rows(engine) == 1


def test_secret_of_other_user_writes_none(
    client: FlaskClient, engine: Engine, member: Person, people: dict[str, Person]
) -> None:
    assert create_secret(client, member).status_code == 201

    response = client.delete(
        f"/api/v2/users/{member.username}/secrets/db-password", headers=headers(people["owner"])
    )

    assert response.status_code == 404
    assert count_audit_rows(engine) == 1


def fail_to_record(*args: object, **kwargs: object) -> None:
    raise RuntimeError("injected audit failure")


def send_create(client: FlaskClient, member: Person) -> TestResponse:
    return create_secret(client, member)


def send_update(client: FlaskClient, member: Person) -> TestResponse:
    return client.patch(
        f"{SECRETS}/db-password",
        json={"value": UPDATED_CANARY, "description": "changed"},
        headers=headers(member),
    )


def send_delete(client: FlaskClient, member: Person) -> TestResponse:
    return client.delete(f"{SECRETS}/db-password", headers=headers(member))


def secret_state(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(UserSecret.id, UserSecret.description, UserSecret.value, UserSecret.version)
        )
        return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    ("send", "existing"),
    [
        pytest.param(send_create, False, id="create"),
        pytest.param(send_update, True, id="update"),
        pytest.param(send_delete, True, id="delete"),
    ],
)
def test_secret_audit_failure_rolls_back(
    client: FlaskClient,
    engine: Engine,
    member: Person,
    monkeypatch: pytest.MonkeyPatch,
    send: Callable[[FlaskClient, Person], TestResponse],
    existing: bool,
) -> None:
    if existing:
        assert create_secret(client, member).status_code == 201
    before = secret_state(engine)
    rows_before = count_audit_rows(engine)
    monkeypatch.setattr(secrets_store, "record_change", fail_to_record)

    response = send(client, member)

    assert response.status_code == 500
    assert response.json is not None
    assert response.headers["X-Request-Id"] in response.json["detail"]
    assert CANARY not in response.get_data(as_text=True)
    assert UPDATED_CANARY not in response.get_data(as_text=True)
    assert secret_state(engine) == before
    assert count_audit_rows(engine) == rows_before


def test_secret_concurrent_deletes_one_wins(app: Flask, engine: Engine, member: Person) -> None:
    rounds = 5
    clients = [app.test_client(), app.test_client()]
    for index in range(rounds):
        assert create_secret(clients[0], member, f"secret-{index}", env_name="").status_code == 201

    def delete(
        client: FlaskClient, name: str, barrier: threading.Barrier, results: list[int]
    ) -> None:
        # Both threads send their DELETE only once both are ready, so the two requests
        # overlap in the database.
        barrier.wait()
        response = client.delete(f"{SECRETS}/{name}", headers=headers(member))
        results.append(response.status_code)

    statuses: list[list[int]] = []
    for index in range(rounds):
        barrier = threading.Barrier(len(clients))
        results: list[int] = []
        threads = [
            threading.Thread(target=delete, args=(client, f"secret-{index}", barrier, results))
            for client in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        statuses.append(sorted(results))

    assert statuses == [[204, 404]] * rounds
    delete_rows = [row for row in audit_rows(engine) if row.action == "delete"]
    assert sorted(row.resource_target for row in delete_rows) == [
        f"secret-{index}" for index in range(rounds)
    ]
    assert count_secrets(engine) == 0


@pytest.mark.e2e
def test_server_keeps_canary_out_of_logs(database_url: URL, tmp_path: Path, engine: Engine) -> None:
    env = service_env(database_url, tmp_path / "data", {"USERSECRETS_LOG_LEVEL": "DEBUG"})
    with Session(engine) as session:
        token = make_token(session, make_user(session, "alice"))
        session.commit()

    with ServerProcess(env) as server:
        with httpx.Client(base_url=server.url, headers=bearer(token)) as http:
            responses = [
                http.post(SECRETS, json={"name": "db-password", "value": CANARY}),
                http.post(SECRETS, json={"name": "db-password", "value": CANARY}),
                http.patch(f"{SECRETS}/db-password", json={"value": UPDATED_CANARY}),
                http.patch(
                    f"{SECRETS}/db-password", json={"value": UPDATED_CANARY, "env_name": "PATH"}
                ),
                http.get(SECRETS),
                http.get(f"{SECRETS}/db-password"),
                http.delete(f"{SECRETS}/db-password"),
                http.delete(f"{SECRETS}/db-password"),
            ]
        output = server.output

    assert [response.status_code for response in responses] == [
        201,
        409,
        200,
        400,
        200,
        200,
        204,
        404,
    ]
    for response in responses:
        assert CANARY not in response.text
        assert UPDATED_CANARY not in response.text
    assert "method=POST path=/api/v2/users/me/secrets status=201" in output
    assert CANARY not in output
    assert UPDATED_CANARY not in output
    assert count_audit_rows(engine) == 3
    assert canary_rows(engine) == 0
