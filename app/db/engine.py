"""Engine creation with the per-connection settings each database needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL

# How long a SQLite connection waits for another writer's lock before failing, in ms.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_db_engine(url: URL) -> Engine:
    """Create an engine for `url`; SQLite connections get foreign keys, WAL and a busy timeout.

    hide_parameters keeps bound values, secret values among them, out of the messages of
    database errors, which end up in logs.
    """
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)

    if url.database and url.database != ":memory:":
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _begin_sqlite_immediate) instead of the
    # sqlite3 module's implicit transactions, which start only at the first write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite_immediate(connection: Any) -> None:
    # NOTE: every transaction takes SQLite's write lock up front. A deferred transaction
    # that reads and then writes fails at once with SQLITE_BUSY when another writer
    # committed in between, instead of waiting out the busy timeout. This serializes
    # requests on the embedded database, which PostgreSQL deployments do not share.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
