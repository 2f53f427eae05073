"""Real test databases: migrated SQLite files and a PostgreSQL database per test session.

Every database test runs on both. PostgreSQL tests read the server from
USERSECRETS_TEST_POSTGRESQL_URL; without it they are skipped with a reason, unless
USERSECRETS_TEST_REQUIRE_POSTGRESQL=1 or CI=true turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from app.db import migrate
from app.db.engine import create_db_engine
from app.db.models import Base

POSTGRESQL_URL_VARIABLE = "USERSECRETS_TEST_POSTGRESQL_URL"
REQUIRE_POSTGRESQL_VARIABLE = "USERSECRETS_TEST_REQUIRE_POSTGRESQL"


def postgresql_required() -> bool:
    return os.environ.get(REQUIRE_POSTGRESQL_VARIABLE) == "1" or os.environ.get("CI") == "true"


def postgresql_server_url() -> URL | None:
    raw = os.environ.get(POSTGRESQL_URL_VARIABLE)
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def skip_or_fail_without_postgresql() -> URL:
    url = postgresql_server_url()
    if url is not None:
        return url
    reason = (
        f"PostgreSQL tests need {POSTGRESQL_URL_VARIABLE}, for example "
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    if postgresql_required():
        pytest.fail(f"{reason} ({REQUIRE_POSTGRESQL_VARIABLE}=1 or CI=true)", pytrace=False)
    pytest.skip(reason)


def create_postgresql_database(server_url: URL, prefix: str = "usersecrets_test") -> URL:
    """Create an empty database with a unique name on the server; return its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server_url.set(database=name)


def drop_postgresql_database(server_url: URL, database_url: URL) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{database_url.database}" WITH (FORCE)')
            )
    finally:
        admin.dispose()


def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    engine = create_db_engine(URL.create("sqlite+pysqlite", database=str(path)))
    try:
        migrate.upgrade(engine)
    finally:
        # Closing the last connection folds the write-ahead log into the main file,
        # so a plain copy of that file is complete.
        engine.dispose()
    assert not path.with_name(path.name + "-wal").exists(), "WAL not checkpointed"
    return path


def fresh_sqlite_copy(template: Path, directory: Path) -> URL:
    path = directory / "usersecrets.db"
    shutil.copyfile(template, path)
    return URL.create("sqlite+pysqlite", database=str(path))


def truncate_all(url: URL) -> None:
    """Empty every application table of a PostgreSQL test database."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    finally:
        engine.dispose()


def sqlite_url(path: Path) -> URL:
    return URL.create("sqlite+pysqlite", database=str(path))


def dispose(engine: Engine) -> None:
    engine.dispose()
