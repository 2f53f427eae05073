"""`usersecrets secrets` against the real server process, on both databases.

A few commands run as separate `usersecrets` processes, the way a user runs them, one of
them on a pseudo-terminal. The others run in-process through click's CliRunner to keep
the tests fast.

Stored values are read back through the data layer with the server's key file, because
no API returns a value.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.auth.tokens import load_actor
from app.cli import main
from app.config import Settings
from app.crypto.keys import load_keyring
from app.secrets import store
from app.secrets.validation import VALUE_MAX_BYTES
from app.users.models import User
from tests.support.factories import make_token, make_user
from tests.support.server import ServerProcess, run_cli, service_env

pytestmark = pytest.mark.e2e

VALUE = "cli-e2e-value-9d27"


@dataclass(frozen=True)
class Outcome:
    """Exit status and output of one command, run in-process or as a process."""

    status: int
    stdout: str
    stderr: str


def invoke(args: list[str], env: dict[str, str], stdin: str = "") -> Outcome:
    """Run `usersecrets secrets ARGS` in-process with only the given USERSECRETS_ variables.

    click's CliRunner skips starting a new Python process for every command, which is
    the slow part of a command run as a process.
    """
    cleared = dict.fromkeys(("USERSECRETS_URL", "USERSECRETS_TOKEN"))
    result = CliRunner().invoke(main, ["secrets", *args], env={**cleared, **env}, input=stdin)
    return Outcome(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class CliSession:
    """The CLI configured for alice on a running server, with helpers to inspect the result."""

    env: dict[str, str]
    data_dir: Path
    database_url: URL
    engine: Engine

    def run(self, *args: str, stdin: str = "") -> Outcome:
        """Run a command in-process and check that its output contains no value."""
        client_env = {name: self.env[name] for name in ("USERSECRETS_URL", "USERSECRETS_TOKEN")}
        return self._checked(invoke(list(args), client_env, stdin))

    def run_process(self, *args: str, stdin: str = "") -> Outcome:
        """Run a command as a separate `usersecrets` process, the way a user does."""
        result = run_cli(["secrets", *args], self.env, stdin=stdin)
        return self._checked(Outcome(result.returncode, result.stdout, result.stderr))

    def _checked(self, outcome: Outcome) -> Outcome:
        assert VALUE not in outcome.stdout, "a command printed a value"
        assert VALUE not in outcome.stderr, "a command printed a value"
        return outcome

    def stored_values(self) -> dict[str, str]:
        """Return alice's secrets as name -> decrypted value, read from the database."""
        keyring = load_keyring(Settings(data_dir=self.data_dir, database_url=self.database_url))
        with Session(self.engine) as session:
            alice = session.query(User).filter_by(username="alice").one()
            actor = load_actor(session, alice)
            secrets = store.list_secrets_with_values(session, actor, keyring, alice.id)
        return {secret.metadata.name: secret.value for secret in secrets}


@pytest.fixture
def cli(database_url: URL, tmp_path: Path, engine: Engine) -> Iterator[CliSession]:
    with Session(engine) as session:
        token = make_token(session, make_user(session, "alice"))
        session.commit()
    data_dir = tmp_path / "data"
    env = service_env(database_url, data_dir)
    with ServerProcess(env) as server:
        client_env = {**env, "USERSECRETS_URL": server.url, "USERSECRETS_TOKEN": token}
        yield CliSession(client_env, data_dir, database_url, engine)


def test_cli_secrets_full_cycle(cli: CliSession, tmp_path: Path) -> None:
    value_file = tmp_path / "value.txt"
    value_file.write_text(VALUE + "-from-file\n")

    created = cli.run_process("create", "db-password", "--env", "DB_PASSWORD", stdin=VALUE + "\n")
    stripped = cli.run("create", "api-key", "--strip-newline", stdin=VALUE + "-api\r\n")
    from_file = cli.run("create", "tls", "--file", "~/.tls/key", "--value-file", str(value_file))
    listed = cli.run("list", "--json")
    table = cli.run("list")
    shown = cli.run("get", "db-password")
    shown_json = cli.run("get", "db-password", "--json")
    updated = cli.run(
        "update",
        "db-password",
        *("--value-stdin", "--strip-newline", "--description", "prod", "--if-version", "1"),
        stdin=VALUE + "-2\n",
    )
    cleared = cli.run("update", "db-password", "--env", "")
    values = cli.stored_values()
    deleted = cli.run("delete", "tls")

    results = [created, stripped, from_file, listed, table, shown, shown_json, updated, cleared]
    for result in [*results, deleted]:
        assert result.status == 0, result.stderr
    assert created.stdout == "Created secret 'db-password', version 1.\n"
    assert [item["name"] for item in json.loads(listed.stdout)] == ["api-key", "db-password", "tls"]
    assert table.stdout.splitlines()[0].split() == [
        "NAME",
        "VERSION",
        "ENV",
        "FILE",
        "UPDATED",
        "DESCRIPTION",
    ]
    assert "env_name:    DB_PASSWORD" in shown.stdout.splitlines()
    assert json.loads(shown_json.stdout)["version"] == 1
    assert "value" not in json.loads(shown_json.stdout)
    assert updated.stdout == "Updated secret 'db-password', now version 2.\n"
    assert cleared.stdout == "Updated secret 'db-password', now version 3.\n"
    assert values == {
        "api-key": VALUE + "-api",
        "db-password": VALUE + "-2",
        "tls": VALUE + "-from-file\n",
    }
    assert deleted.stdout == "Deleted secret 'tls'.\n"
    assert "tls" not in cli.run("list").stdout


def read_terminal(fd: int, marker: bytes, seconds: float = 60) -> bytes:
    """Read from a pseudo-terminal until `marker` appears, the output ends or time runs out.

    An empty `marker` reads until the output ends.
    """
    output = b""
    deadline = time.monotonic() + seconds
    while not (marker and marker in output) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # Linux raises EIO once the child closed the terminal.
            break
        if not chunk:
            break
        output += chunk
    return output


def wait_or_kill(pid: int, seconds: float) -> int:
    """Wait for a child process to exit and return its wait status; kill it if it hangs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        exited, status = os.waitpid(pid, os.WNOHANG)
        if exited:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def test_cli_secrets_terminal_prompt_hidden(cli: CliSession) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # The child becomes `usersecrets` with the terminal as its stdin.
        args = [sys.executable, "-m", "app", "secrets", "create", "typed"]
        os.execve(sys.executable, args, cli.env)  # noqa: S606 (this project's own CLI)
    try:
        output = read_terminal(fd, b"Value:")
        os.write(fd, VALUE.encode() + b"\n")
        output += read_terminal(fd, b"confirmation:")
        os.write(fd, VALUE.encode() + b"\n")
        # No marker: read until the child exits and its terminal closes.
        output += read_terminal(fd, b"")
    finally:
        status = wait_or_kill(pid, seconds=30)
        os.close(fd)

    assert os.waitstatus_to_exitcode(status) == 0, output
    assert b"Created secret 'typed', version 1." in output
    assert VALUE.encode() not in output
    assert cli.stored_values() == {"typed": VALUE}


def test_cli_secrets_errors_exit_one(cli: CliSession, tmp_path: Path) -> None:
    cli.run("create", "taken", "--env", "TAKEN", stdin=VALUE)
    binary_file = tmp_path / "binary"
    binary_file.write_bytes(b"\xff\xfe\x00")

    conflict = cli.run_process("create", "other", "--env", "TAKEN", stdin=VALUE)
    invalid = cli.run("create", "bad", "--env", "PATH", "--file", "relative", stdin=VALUE)
    missing = cli.run("delete", "absent")
    stale = cli.run("update", "taken", "--description", "late", "--if-version", "5")
    not_utf8 = cli.run("create", "binary", "--value-file", str(binary_file))
    empty = cli.run("create", "empty", stdin="")

    assert conflict.status == 1
    assert conflict.stderr.splitlines()[0] == "Error: Secret conflict."
    assert "  env_name: already used by another secret of this user" in conflict.stderr
    assert invalid.status == 1
    assert [line.split(":")[0].strip() for line in invalid.stderr.splitlines()[2:]] == [
        "env_name",
        "file_path",
    ]
    assert missing.status == 1
    assert missing.stderr.startswith("Error: Secret not found.")
    assert stale.status == 1
    assert stale.stderr.startswith("Error: Precondition failed.")
    assert not_utf8.status == 1
    assert "not valid UTF-8" in not_utf8.stderr
    assert empty.status == 1
    assert "  value: must not be empty; delete the secret to remove it" in empty.stderr


# The tests below reach no server of the project and run in-process.


def test_cli_secrets_dropped_connection_exit_one() -> None:
    # A server of this test that reads each request and closes without a response.
    with socket.create_server(("127.0.0.1", 0)) as server:
        stop = threading.Event()

        def drop_connections() -> None:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    connection, _ = server.accept()
                except TimeoutError:
                    continue
                # Closing with the request still unread would reset the connection, which
                # httpx reports as ReadError instead of a missing response.
                connection.settimeout(5)
                with contextlib.suppress(OSError):
                    connection.recv(65536)
                connection.close()

        thread = threading.Thread(target=drop_connections, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        try:
            result = invoke(["list"], {"USERSECRETS_URL": url, "USERSECRETS_TOKEN": "t"})
        finally:
            stop.set()
            thread.join(timeout=5)

    assert result.status == 1
    assert "RemoteProtocolError" in result.stderr
    assert url in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["update", "n"], id="update-nothing"),
        pytest.param(["update", "n", "--value-file", "-", "--value-stdin"], id="two-sources"),
        pytest.param(["update", "n", "--description", "d", "--strip-newline"], id="strip-alone"),
        pytest.param(["delete", "n", "--if-version", "0"], id="version-zero"),
        pytest.param(["create"], id="missing-name"),
        pytest.param(["create", "n", "--value", "x"], id="value-option-absent"),
    ],
)
def test_cli_secrets_usage_errors_exit_two(args: list[str]) -> None:
    result = invoke(args, {"USERSECRETS_TOKEN": "t"})

    assert result.status == 2, result.stderr


def test_cli_secrets_missing_token_exit_two() -> None:
    result = invoke(["list"], {})

    assert result.status == 2
    assert "USERSECRETS_TOKEN" in result.stderr


def test_cli_secrets_oversized_stdin_exit_one() -> None:
    result = invoke(
        ["create", "big"], {"USERSECRETS_TOKEN": "t"}, stdin="x" * (VALUE_MAX_BYTES + 3)
    )

    assert result.status == 1
    assert f"at most {VALUE_MAX_BYTES} bytes" in result.stderr
