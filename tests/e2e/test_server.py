"""The real server process on a loopback port, driven over HTTP and through the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.support.server import ServerProcess, run_cli, service_env

pytestmark = pytest.mark.e2e

TOKEN_RE = re.compile(r"^[a-z0-9]{10}-[A-Za-z0-9_-]{22,}$")


def test_server_answers_me_for_cli_token(database_url: URL, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path / "data")

    with ServerProcess(env) as server:
        created = run_cli(["users", "create", "alice", "--email", "alice@example.com"], env)
        assert created.returncode == 0, created.stderr
        issued = run_cli(["tokens", "create", "alice"], env)
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip()
        assert TOKEN_RE.match(token), "tokens create must print only the token"

        response = httpx.get(
            f"{server.url}/api/v2/users/me", headers={"Authorization": f"Bearer {token}"}
        )

    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert "stopped" in server.output.splitlines()[-1]
    request_id = response.headers["X-Request-Id"]
    assert f"request_id={request_id} method=GET path=/api/v2/users/me status=200" in server.output


def test_server_first_start_prints_admin_token_once(database_url: URL, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path / "data")

    with ServerProcess(env) as first:
        token_lines = [line for line in first.output.splitlines() if TOKEN_RE.match(line)]
        assert len(token_lines) == 1
        assert "will not be shown again" in first.output
        response = httpx.get(
            f"{first.url}/api/v2/users/me",
            headers={"Authorization": f"Bearer {token_lines[0]}"},
        )
        assert response.status_code == 200
        assert response.json()["username"] == "admin"
        assert response.json()["site_roles"] == ["owner"]

    with ServerProcess(env) as second:
        assert not [line for line in second.output.splitlines() if TOKEN_RE.match(line)]


def test_server_bad_token_is_json_401(database_url: URL, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path / "data")

    with ServerProcess(env) as server:
        response = httpx.get(
            f"{server.url}/api/v2/users/me", headers={"Authorization": "Bearer nope"}
        )

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"message", "detail", "validations"}
