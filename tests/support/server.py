"""The real `usersecrets` process: the CLI, and `serve` on a free loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL

STARTUP_TIMEOUT_SECONDS = 30
_LISTENING_RE = re.compile(r"listening url=(http://\S+)")


def service_env(database_url: URL, data_dir: Path, extra: Mapping[str, str] = ()) -> dict[str, str]:  # type: ignore[assignment]
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERSECRETS_")}
    env["USERSECRETS_DATABASE_URL"] = database_url.render_as_string(hide_password=False)
    env["USERSECRETS_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `usersecrets ARGS` as a separate process, the way a user would."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class ServerProcess:
    """`usersecrets serve` on 127.0.0.1 with an OS-chosen port, its output collected."""

    def __init__(self, env: Mapping[str, str], args: tuple[str, ...] = ()) -> None:
        self.env = dict(env)
        self.args = args
        self.url = ""
        self._lines: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return "".join(self._lines)

    def start(self) -> ServerProcess:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                *self.args,
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            match = _LISTENING_RE.search(self.output)
            if match:
                self.url = match.group(1)
                return self
            if self._process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError(f"server exited with {self._process.returncode}:\n{self.output}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start in {STARTUP_TIMEOUT_SECONDS}s:\n{self.output}")

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.append(line)

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
