"""Fixtures for the policy tests: editable copies of policies/ and the CLI run in-process."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.authz.policy import MODEL_FILE, POLICIES_DIR, POLICY_FILE
from app.cli import main


@dataclass(frozen=True)
class PolicyCopy:
    """A copy of the shipped policies/ directory that a test may change."""

    directory: Path

    @property
    def policy_path(self) -> Path:
        return self.directory / POLICY_FILE

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE

    def lines(self, name: str) -> list[str]:
        return (self.directory / name).read_text(encoding="utf-8").splitlines()

    def line_number(self, name: str, text: str) -> int:
        """Return the 1-based number of the only line of `name` equal to `text`."""
        numbers = [n for n, line in enumerate(self.lines(name), start=1) if line == text]
        assert len(numbers) == 1, f"{text!r} occurs {len(numbers)} times in {name}"
        return numbers[0]

    def append(self, name: str, text: str) -> int:
        """Append one line to `name` and return its line number."""
        lines = [*self.lines(name), text]
        self._write(name, lines)
        return len(lines)

    def replace_line(self, name: str, old: str, new: str | None) -> int:
        """Replace the only line equal to `old` with `new`, or delete it when `new` is None."""
        number = self.line_number(name, old)
        lines = self.lines(name)
        if new is None:
            del lines[number - 1]
        else:
            lines[number - 1] = new
        self._write(name, lines)
        return number

    def _write(self, name: str, lines: list[str]) -> None:
        (self.directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def policy_copy(tmp_path: Path) -> PolicyCopy:
    directory = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, directory)
    return PolicyCopy(directory)


@pytest.fixture
def run_policy() -> Callable[..., Result]:
    """Run `usersecrets policy ARGS` in-process and return click's Result.

    An unexpected exception propagates, so a crash never passes for exit status 1.
    """
    runner = CliRunner()

    def run(*args: str | Path) -> Result:
        return runner.invoke(main, ["policy", *(str(arg) for arg in args)], catch_exceptions=False)

    return run
