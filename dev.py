#!/usr/bin/env python3
"""Set up and run usersecrets from a checkout, with nothing but Python 3.11+ installed.

    python3 dev.py serve [OPTIONS]   run the service on the embedded SQLite database
    python3 dev.py test [PYTEST ARGS] run the whole test suite
    python3 dev.py lint              run ruff and mypy
    python3 dev.py cli ARGS          run any `usersecrets` command

The first run creates .venv and installs the project into it; later runs reinstall
only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".usersecrets-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment() -> None:
    """Create .venv and install the project with its test extra, if not yet current."""
    expected = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == expected and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    print("Installing usersecrets and its test dependencies ...", file=sys.stderr)
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--editable",
            f"{ROOT}[test]",
        ],
        check=True,
    )
    STAMP.write_text(expected + "\n")


def run(args: list[str]) -> int:
    return subprocess.run(args, cwd=ROOT, check=False).returncode


def replace_process(args: list[str]) -> int:
    """Run `args` in place of this process, so signals such as Ctrl-C or `kill` reach it.

    Windows has no exec that keeps the process id, so there the command runs as a child.
    """
    if os.name == "nt":
        return run(args)
    os.chdir(ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(args[0], args)  # noqa: S606 - the project's own virtualenv Python.


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "lint", "cli"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "serve":
        return replace_process([str(PYTHON), "-m", "app", "serve", *rest])
    if command == "cli":
        return replace_process([str(PYTHON), "-m", "app", *rest])
    if command == "test":
        return replace_process([str(PYTHON), "-m", "pytest", *rest])
    sources = ["app", "tests", "migrations", "bench", "dev.py"]
    status = run([str(PYTHON), "-m", "ruff", "check", *sources])
    return run([str(PYTHON), "-m", "mypy"]) or status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
