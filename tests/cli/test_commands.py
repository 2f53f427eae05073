"""The operator CLI, run as a separate process against both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from app.db import migrate
from tests.support import databases
from tests.support.server import run_cli, service_env


def test_cli_bad_database_url_names_variable(tmp_path: Path) -> None:
    env = service_env(databases.sqlite_url(tmp_path / "x.db"), tmp_path)
    env["USERSECRETS_DATABASE_URL"] = "nonsense://"

    result = run_cli(["db", "upgrade"], env)

    assert result.returncode != 0
    assert "USERSECRETS_DATABASE_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_users_create_rejects_reserved_name(database_url: URL, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path)

    for username in ("me", "8c0f2a52-3c35-4a9e-9bd6-1b5c4b3f0c11"):
        result = run_cli(["users", "create", username], env)
        assert result.returncode != 0, username
        assert "USERNAME" in result.stderr


def test_cli_users_create_duplicate_any_case(database_url: URL, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path)

    assert run_cli(["users", "create", "alice"], env).returncode == 0
    result = run_cli(["users", "create", "ALICE"], env)

    assert result.returncode != 0
    assert "taken" in result.stderr


def test_cli_orgs_add_member_with_role(database_url: URL, tmp_path: Path, engine: Engine) -> None:
    env = service_env(database_url, tmp_path)
    assert run_cli(["users", "create", "alice"], env).returncode == 0
    assert run_cli(["orgs", "create", "acme"], env).returncode == 0

    result = run_cli(["orgs", "add-member", "acme", "alice", "--role", "org-admin"], env)

    assert result.returncode == 0, result.stderr
    with engine.connect() as connection:
        role = connection.execute(text("SELECT role FROM organization_members")).scalar_one()
    assert role == "org-admin"


def test_cli_tokens_create_unknown_user(database_url: URL, tmp_path: Path) -> None:
    result = run_cli(["tokens", "create", "ghost"], service_env(database_url, tmp_path))

    assert result.returncode != 0
    assert "not found" in result.stderr
    assert result.stdout == ""


def test_serve_no_migrate_refuses_old_schema(tmp_path: Path) -> None:
    url = databases.sqlite_url(tmp_path / "old.db")
    engine = create_engine(url)
    migrate.upgrade(engine, "0002")
    engine.dispose()

    result = run_cli(["serve", "--port", "0", "--no-migrate"], service_env(url, tmp_path))

    assert result.returncode != 0
    assert "revision 0002" in result.stderr
    assert migrate.head_revision() in result.stderr


def test_cli_unreachable_database_one_line(tmp_path: Path) -> None:
    server_url = databases.skip_or_fail_without_postgresql()
    url = server_url.set(username="no_such_role_usersecrets", database="no_such_database")

    result = run_cli(["users", "create", "alice"], service_env(url, tmp_path))

    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot use the database: ")
    assert "USERSECRETS_DATABASE_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
