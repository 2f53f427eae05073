"""Operator CLI changes (`users`, `orgs`, `tokens`) write audit rows as the CLI.

The commands run as separate processes against both databases, the way an operator
runs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.audit.models import AuditLog
from app.audit.recorder import CLI_CONTEXT
from app.cli.context import transaction
from app.users import admin
from app.users.models import User
from tests.audit.helpers import audit_rows, audit_rows_containing, count_audit_rows
from tests.support.server import run_cli, service_env


def run_ok(args: list[str], env: dict[str, str]) -> str:
    result = run_cli(args, env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_cli_context(row: AuditLog) -> None:
    assert row.user_id is None
    assert row.api_key_id is None
    assert row.user_agent == CLI_CONTEXT.user_agent
    assert row.ip == ""


def test_cli_users_create_writes_one_row(database_url: URL, tmp_path: Path, engine: Engine) -> None:
    env = service_env(database_url, tmp_path)

    user_id = run_ok(["users", "create", "alice", "--email", "alice@example.com"], env).strip()

    rows = audit_rows(engine)
    assert len(rows) == 1
    row = rows[0]
    assert_cli_context(row)
    assert row.action == "create"
    assert row.resource_type == "user"
    assert row.resource_id == user_id
    assert str(row.resource_owner_id) == user_id
    assert row.resource_target == "alice"
    assert row.status_code == 201
    assert row.diff["username"] == {"old": None, "new": "alice"}
    assert row.diff["email"] == {"old": None, "new": "alice@example.com"}
    assert row.additional_fields == {}


def test_cli_users_create_records_role(database_url: URL, tmp_path: Path, engine: Engine) -> None:
    env = service_env(database_url, tmp_path)

    run_ok(["users", "create", "carol", "--role", "auditor"], env)

    rows = audit_rows(engine)
    assert len(rows) == 1
    assert rows[0].additional_fields == {"site_roles": {"old": [], "new": ["auditor"]}}


def test_cli_users_create_taken_writes_none(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    env = service_env(database_url, tmp_path)
    run_ok(["users", "create", "alice"], env)

    result = run_cli(["users", "create", "ALICE"], env)

    assert result.returncode != 0
    assert count_audit_rows(engine) == 1


def test_cli_orgs_create_writes_one_row(database_url: URL, tmp_path: Path, engine: Engine) -> None:
    env = service_env(database_url, tmp_path)

    org_id = run_ok(["orgs", "create", "acme"], env).strip()

    rows = audit_rows(engine)
    assert len(rows) == 1
    row = rows[0]
    assert_cli_context(row)
    assert row.action == "create"
    assert row.resource_type == "organization"
    assert row.resource_id == org_id
    assert str(row.organization_id) == org_id
    assert row.resource_target == "acme"
    assert row.diff["name"] == {"old": None, "new": "acme"}


def test_cli_orgs_add_member_audits_each_change(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    env = service_env(database_url, tmp_path)
    user_id = run_ok(["users", "create", "alice"], env).strip()
    org_id = run_ok(["orgs", "create", "acme"], env).strip()

    run_ok(["orgs", "add-member", "acme", "alice"], env)
    run_ok(["orgs", "add-member", "acme", "alice", "--role", "org-admin"], env)
    run_ok(["orgs", "add-member", "acme", "alice", "--role", "org-admin"], env)

    member_rows = [row for row in audit_rows(engine) if row.resource_type == "organization_member"]
    assert [row.action for row in member_rows] == ["create", "write"]
    added, promoted = member_rows
    for row in member_rows:
        assert_cli_context(row)
        assert row.resource_id == user_id
        assert str(row.resource_owner_id) == user_id
        assert str(row.organization_id) == org_id
        assert row.resource_target == "alice"
    assert added.diff["role"] == {"old": None, "new": "org-member"}
    assert promoted.diff == {"role": {"old": "org-member", "new": "org-admin"}}


def test_cli_tokens_create_audits_without_token(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    env = service_env(database_url, tmp_path)
    user_id = run_ok(["users", "create", "alice"], env).strip()

    token = run_ok(["tokens", "create", "alice"], env).strip()

    key_rows = [row for row in audit_rows(engine) if row.resource_type == "api_key"]
    assert len(key_rows) == 1
    row = key_rows[0]
    token_id, _, token_secret = token.partition("-")
    assert_cli_context(row)
    assert row.action == "create"
    assert row.resource_id == token_id
    assert str(row.resource_owner_id) == user_id
    assert row.diff["hashed_secret"] == {"old": "", "new": "", "secret": True}
    assert "last_used_at" not in row.diff
    with engine.connect() as connection:
        assert audit_rows_containing(connection, token_secret) == 0


def test_cli_tokens_create_unknown_writes_none(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    result = run_cli(["tokens", "create", "ghost"], service_env(database_url, tmp_path))

    assert result.returncode != 0
    assert count_audit_rows(engine) == 0


def test_admin_failed_audit_rolls_back_user(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_to_record(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit write failed")

    monkeypatch.setattr(admin, "record_change", fail_to_record)

    with pytest.raises(RuntimeError, match="audit write failed"), transaction(engine) as session:
        admin.create_user(session, "alice")

    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    assert count_audit_rows(engine) == 0
