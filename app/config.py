"""Settings read once from the environment, at start-up, never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

PREFIX = "USERSECRETS_"
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable and the rule."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: URL
    log_level: str = "INFO"
    # Largest request body accepted, in bytes. A secret value may be 64 KiB of UTF-8, and
    # JSON escaping can grow it up to six times, so the limit leaves room for that.
    max_body_bytes: int = 512 * 1024
    # Comma-separated base64 keys; None when the variable is unset.
    encryption_keys: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from USERSECRETS_* variables, raising ConfigError on a bad one."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get(f"{PREFIX}DATA_DIR") or "./var").resolve()

        raw_url = env.get(f"{PREFIX}DATABASE_URL")
        if raw_url:
            database_url = parse_database_url(raw_url, f"{PREFIX}DATABASE_URL")
        else:
            database_url = URL.create("sqlite+pysqlite", database=str(data_dir / "usersecrets.db"))

        log_level = (env.get(f"{PREFIX}LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(
                f"{PREFIX}LOG_LEVEL is invalid: {log_level!r}; use one of {', '.join(LOG_LEVELS)}"
            )

        return cls(
            data_dir=data_dir,
            database_url=database_url,
            log_level=log_level,
            encryption_keys=env.get(f"{PREFIX}ENCRYPTION_KEYS") or None,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.get_backend_name() == "sqlite"


def parse_database_url(raw_url: str, variable: str) -> URL:
    """Parse a database URL, raising ConfigError that names `variable` but not the password."""
    try:
        url = make_url(raw_url)
    except ArgumentError:
        raise ConfigError(
            f"{variable} is not a valid database URL; expected sqlite:///PATH "
            "or postgresql+psycopg://USER@HOST:PORT/DATABASE"
        ) from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigError(
            f"{variable} uses the unsupported driver {url.drivername!r}; "
            "use sqlite:///PATH or postgresql+psycopg://..."
        )
    if url.get_backend_name() == "sqlite" and not url.database:
        raise ConfigError(f"{variable} names no SQLite file; use sqlite:////absolute/path.db")
    return url
