"""Reading database errors the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import sqlite3

import psycopg
from sqlalchemy import Index, Table
from sqlalchemy.exc import IntegrityError

from app.db.base import Base

# SQLite names an expression index in its message, and lists the columns otherwise:
# "UNIQUE constraint failed: index 'uq_users_username_lower'" or
# "UNIQUE constraint failed: user_secrets.user_id, user_secrets.env_name".
_SQLITE_NAMED_INDEX_RE = re.compile(r"UNIQUE constraint failed: index '(?P<name>[^']+)'")
_SQLITE_COLUMNS_RE = re.compile(r"UNIQUE constraint failed: (?P<columns>.+)")


def violated_unique_constraint(error: IntegrityError) -> str | None:
    """Return the name of the unique index or primary key that `error` violated, or None.

    Only the database's own report decides: a SELECT before the write could not see a
    row that a concurrent transaction commits in between. Primary keys are named
    `pk_<table>` on both databases, by the naming convention in app.db.base.
    """
    original = error.orig
    if isinstance(original, psycopg.errors.UniqueViolation):
        return original.diag.constraint_name
    if not isinstance(original, sqlite3.IntegrityError):
        return None

    message = str(original)
    named = _SQLITE_NAMED_INDEX_RE.fullmatch(message)
    if named is not None:
        return named["name"]
    listed = _SQLITE_COLUMNS_RE.fullmatch(message)
    if listed is None:
        return None
    qualified = [column.strip().split(".", 1) for column in listed["columns"].split(",")]
    if any(len(parts) != 2 for parts in qualified):
        return None
    table = Base.metadata.tables.get(qualified[0][0])
    if table is None:
        return None
    return _constraint_with_columns(table, tuple(column for _, column in qualified))


def _constraint_with_columns(table: Table, columns: tuple[str, ...]) -> str | None:
    if tuple(column.name for column in table.primary_key.columns) == columns:
        return f"pk_{table.name}"
    for index in table.indexes:
        if isinstance(index, Index) and index.unique and _index_columns(index) == columns:
            return str(index.name)
    return None


def _index_columns(index: Index) -> tuple[str, ...]:
    return tuple(column.name for column in index.columns)
