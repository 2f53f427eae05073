"""Every revision upgrades and downgrades on both databases, and head matches the models."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from app.db import migrate
from app.db.engine import create_db_engine
from app.db.models import Base
from tests.support import databases

# Expression indexes that SQLAlchemy cannot reflect from SQLite; checked by name instead.
EXPRESSION_INDEXES = {"uq_users_username_lower", "uq_organizations_name_lower"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if request.param == "sqlite":
        engine = create_db_engine(databases.sqlite_url(tmp_path / "empty.db"))
        yield engine
        engine.dispose()
        return
    server_url = databases.skip_or_fail_without_postgresql()
    url: URL = databases.create_postgresql_database(server_url, prefix="usersecrets_migration")
    engine = create_db_engine(url)
    yield engine
    engine.dispose()
    databases.drop_postgresql_database(server_url, url)


def schema_drift(engine: Engine) -> list[object]:
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; Alembic and SQLAlchemy warn and skip them.
        warnings.simplefilter("ignore")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def index_names(engine: Engine) -> set[str]:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            )
            return {row[0] for row in rows}
    inspector = inspect(engine)
    return {
        index["name"]
        for table in inspector.get_table_names()
        for index in inspector.get_indexes(table)
        if index["name"]
    }


def test_migrations_upgrade_downgrade_upgrade(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()

    migrate.downgrade(empty_engine, "base")
    assert migrate.current_revision(empty_engine) is None
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_migrations_each_step_reverses(empty_engine: Engine) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]

    for revision in revisions:
        migrate.upgrade(empty_engine, revision)
        tables_after_upgrade = set(inspect(empty_engine).get_table_names())
        migrate.downgrade(empty_engine, "-1")
        migrate.upgrade(empty_engine, revision)
        assert set(inspect(empty_engine).get_table_names()) == tables_after_upgrade, revision


def test_migrations_head_matches_models(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)

    assert schema_drift(empty_engine) == []
    assert index_names(empty_engine) >= EXPRESSION_INDEXES


def test_migrations_revision_files_named_by_slug() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())

    for revision in script.walk_revisions():
        path = Path(revision.path)
        assert path.name.startswith(f"{revision.revision}_"), path.name
        assert revision.doc, path.name
        assert revision.doc != "empty message", path.name
