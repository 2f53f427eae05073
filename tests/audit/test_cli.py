"""`usersecrets audit list` against the real server, run as separate processes.

Usage errors, which never reach a server, run in-process with click's CliRunner.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.audit.models import AuditLog
from app.cli import main
from tests.audit.helpers import BASE_TIME, insert_audit_row
from tests.support.factories import make_token, make_user
from tests.support.server import ServerProcess, run_cli, service_env


class Operator:
    """A running server, plus the environment for CLI calls as one of its users."""

    def __init__(self, env: dict[str, str], server: ServerProcess) -> None:
        self.env = env
        self.server = server

    def cli_as(self, token: str, args: list[str]) -> tuple[int, str, str]:
        env = {**self.env, "USERSECRETS_URL": self.server.url, "USERSECRETS_TOKEN": token}
        result = run_cli(args, env)
        return result.returncode, result.stdout, result.stderr

    def admin(self, args: list[str]) -> str:
        result = run_cli(args, self.env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture
def operator(database_url: URL, tmp_path: Path) -> Iterator[Operator]:
    env = service_env(database_url, tmp_path / "data")
    with ServerProcess(env) as server:
        yield Operator(env, server)


def new_token(engine: Engine, username: str, site_roles: tuple[str, ...] = ()) -> str:
    """Create a user and a token directly in the database, which writes no audit row."""
    with Session(engine) as session:
        token = make_token(session, make_user(session, username, site_roles=site_roles))
        session.commit()
    return token


@pytest.fixture
def auditor_token(engine: Engine) -> str:
    return new_token(engine, "carol", ("auditor",))


def insert_rows(engine: Engine, count: int) -> None:
    with Session(engine) as session:
        session.add_all(
            AuditLog(
                id=uuid.uuid4(),
                time=BASE_TIME + dt.timedelta(seconds=index),
                action="write",
                resource_type="user",
                resource_id=str(index),
                status_code=200,
                diff={},
                additional_fields={},
            )
            for index in range(count)
        )
        session.commit()


@pytest.mark.e2e
def test_cli_audit_list_json(operator: Operator, auditor_token: str) -> None:
    operator.admin(["orgs", "create", "acme"])

    status, stdout, stderr = operator.cli_as(auditor_token, ["audit", "list", "--json"])

    assert status == 0, stderr
    rows = json.loads(stdout)
    # The older two rows are the first start's `admin` owner and its token.
    assert [(row["action"], row["resource_type"], row["resource_target"]) for row in rows] == [
        ("create", "organization", "acme"),
        ("create", "api_key", rows[1]["resource_id"]),
        ("create", "user", "admin"),
    ]
    assert rows[0]["user_id"] is None
    assert rows[0]["user_agent"] == "usersecrets-cli"
    assert stderr == ""


@pytest.mark.e2e
def test_cli_audit_list_table(operator: Operator, auditor_token: str) -> None:
    status, stdout, stderr = operator.cli_as(
        auditor_token, ["audit", "list", "--target-user", "admin"]
    )

    assert status == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].split() == ["TIME", "ACTOR", "ACTION", "RESOURCE", "TARGET", "CHANGED"]
    assert len(lines) == 3
    fields = lines[2].split()
    assert fields[1:5] == ["(cli)", "create", "user", "admin"]
    assert fields[5] == "email,id,status,username"


@pytest.mark.e2e
def test_cli_audit_list_forwards_filters(
    operator: Operator, auditor_token: str, engine: Engine
) -> None:
    alice_id = uuid.uuid4()
    with Session(engine, expire_on_commit=False) as session:
        expected_row = insert_audit_row(
            session,
            time=BASE_TIME,
            action="delete",
            resource_type="api_key",
            user_id=alice_id,
            owner_id=alice_id,
        )
        insert_audit_row(session, time=BASE_TIME, action="create", resource_type="api_key")
        insert_audit_row(session, time=BASE_TIME, action="delete", owner_id=alice_id)
        insert_audit_row(session, time=BASE_TIME - dt.timedelta(seconds=1), action="delete")
        session.commit()
    args = ["--resource-type", "api_key", "--target-user", str(alice_id), "--action", "delete"]
    args += ["--actor", str(alice_id), "--since", "2026-03-01T12:00:00Z"]
    args += ["--until", "2026-03-01T12:00:01Z"]

    status, stdout, stderr = operator.cli_as(auditor_token, ["audit", "list", "--json", *args])

    assert status == 0, stderr
    assert [row["id"] for row in json.loads(stdout)] == [str(expected_row.id)]


@pytest.mark.e2e
def test_cli_audit_list_pages_to_limit(
    operator: Operator, auditor_token: str, engine: Engine
) -> None:
    insert_rows(engine, 1002)

    status, stdout, stderr = operator.cli_as(
        auditor_token, ["audit", "list", "--json", "--limit", "1001"]
    )

    assert status == 0, stderr
    ids = [row["id"] for row in json.loads(stdout)]
    assert len(ids) == 1001
    assert len(set(ids)) == 1001
    assert "More entries match than the 1001 shown" in stderr


@pytest.mark.e2e
def test_cli_audit_list_all_fit_without_note(operator: Operator, auditor_token: str) -> None:
    status, stdout, stderr = operator.cli_as(
        auditor_token, ["audit", "list", "--json", "--limit", "1", "--resource-type", "user"]
    )

    assert status == 0, stderr
    assert len(json.loads(stdout)) == 1
    assert stderr == ""


@pytest.mark.e2e
def test_cli_audit_list_member_forbidden(operator: Operator, engine: Engine) -> None:
    token = new_token(engine, "alice")

    status, stdout, stderr = operator.cli_as(token, ["audit", "list"])

    assert status == 1
    assert stdout == ""
    assert stderr.startswith("Error: Forbidden.")


@pytest.mark.e2e
def test_cli_audit_list_unknown_actor(operator: Operator, auditor_token: str) -> None:
    status, _, stderr = operator.cli_as(auditor_token, ["audit", "list", "--actor", "nobody"])

    assert status == 1
    assert stderr.startswith("Error: Invalid query parameters.")
    assert "actor: no user has this username" in stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--since", "yesterday"], id="since"),
        pytest.param(["--until", "2026-03-01T12:00:00"], id="until-without-offset"),
        pytest.param(["--action", "read"], id="action"),
        pytest.param(["--limit", "0"], id="limit"),
    ],
)
def test_cli_audit_list_bad_option(args: list[str]) -> None:
    env = {"USERSECRETS_URL": "http://127.0.0.1:9", "USERSECRETS_TOKEN": "unused"}

    result = CliRunner().invoke(main, ["audit", "list", *args], env=env)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert args[0] in result.stderr


def test_cli_audit_list_without_token() -> None:
    env = {"USERSECRETS_URL": "http://127.0.0.1:9", "USERSECRETS_TOKEN": ""}

    result = CliRunner().invoke(main, ["audit", "list"], env=env)

    assert result.exit_code == 2
    assert "USERSECRETS_TOKEN" in result.stderr
