"""User secrets through the real server process on a loopback port."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.support.server import ServerProcess, run_cli, service_env

pytestmark = pytest.mark.e2e

VALUE = "e2e-value-marker-81c2"


def test_server_secret_lifecycle(database_url: URL, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path / "data")

    with ServerProcess(env) as server:
        assert (
            run_cli(["users", "create", "alice", "--email", "a@example.com"], env).returncode == 0
        )
        token = run_cli(["tokens", "create", "alice"], env).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        secrets_url = f"{server.url}/api/v2/users/me/secrets"

        created = httpx.post(
            secrets_url, json={"name": "db password", "value": VALUE}, headers=headers
        )
        fetched = httpx.get(f"{secrets_url}/db%20password", headers=headers)
        changed = httpx.patch(
            f"{secrets_url}/db%20password",
            json={"env_name": "DB_PASSWORD"},
            headers={**headers, "If-Match": fetched.headers["ETag"]},
        )
        stale = httpx.delete(f"{secrets_url}/db%20password", headers={**headers, "If-Match": '"1"'})
        deleted = httpx.delete(f"{secrets_url}/db%20password", headers=headers)
        output = server.output

    assert created.status_code == 201
    assert created.headers["Location"].endswith("/secrets/db%20password")
    assert fetched.status_code == 200
    assert fetched.headers["ETag"] == '"1"'
    assert changed.status_code == 200
    assert changed.json()["env_name"] == "DB_PASSWORD"
    assert stale.status_code == 412
    assert deleted.status_code == 204
    assert VALUE not in output


def test_server_oversized_body_is_json_413(database_url: URL, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path / "data")

    with ServerProcess(env) as server:
        assert (
            run_cli(["users", "create", "alice", "--email", "a@example.com"], env).returncode == 0
        )
        token = run_cli(["tokens", "create", "alice"], env).stdout.strip()
        response = httpx.post(
            f"{server.url}/api/v2/users/me/secrets",
            json={"name": "big", "value": "v" * (1024 * 1024)},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"message", "detail", "validations"}
