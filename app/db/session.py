"""A database session per request, rolled back and closed when the request ends."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session


def get_engine() -> Engine:
    engine: Engine = current_app.extensions["usersecrets.engine"]
    return engine


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    session: Session = g.db_session
    return session


def close_session(exc: BaseException | None = None) -> None:
    # Anything not committed explicitly by the handler is rolled back here.
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
