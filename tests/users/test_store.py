"""The users data layer: policy decision counts and list filtering in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext
from app.auth.tokens import load_actor
from app.authz import Actor, count_decisions
from app.users import store
from app.users.errors import UsernameTaken
from app.users.models import User
from tests.users.helpers import World, build_world

CONTEXT = AuditContext(user_id=None, api_key_id=None, user_agent="pytest")


def actor_named(session: Session, world: World, username: str) -> Actor:
    return load_actor(session, session.get_one(User, world.user_ids[username]))


def test_list_users_makes_one_decision(engine: Engine) -> None:
    world = build_world(engine)
    with Session(engine) as session:
        actor = actor_named(session, world, "audrey")

        with count_decisions() as decisions:
            users = store.list_users(session, actor)

    assert len(users) == len(world.user_ids)
    assert decisions[0] == 1


def test_get_user_makes_one_decision(engine: Engine) -> None:
    world = build_world(engine)
    with Session(engine) as session:
        actor = actor_named(session, world, "audrey")

        with count_decisions() as decisions:
            store.get_user(session, actor, "tina")

    assert decisions[0] == 1


def test_list_users_member_sees_only_self(engine: Engine) -> None:
    world = build_world(engine)
    with Session(engine) as session:
        actor = actor_named(session, world, "tina")

        users = store.list_users(session, actor)

    assert [user.username for user in users] == ["tina"]


def test_list_users_sorted_case_insensitively(engine: Engine) -> None:
    world = build_world(engine)
    with Session(engine) as session:
        actor = actor_named(session, world, "olivia")
        store.create_user(session, actor, CONTEXT, username="Bea", email="b@x.test")
        store.create_user(session, actor, CONTEXT, username="zack", email="z@x.test")
        store.create_user(session, actor, CONTEXT, username="Zara", email="z@x.test")

        usernames = [user.username for user in store.list_users(session, actor)]

    assert usernames == sorted(usernames, key=str.lower)
    assert usernames[0] == "adam"
    assert usernames[-2:] == ["zack", "Zara"]


def test_update_user_decisions_per_field(engine: Engine) -> None:
    world = build_world(engine)
    with Session(engine) as session:
        actor = actor_named(session, world, "olivia")
        changes = store.UserChanges(email="t@new.test", site_roles=frozenset({"auditor"}))

        with count_decisions() as decisions:
            store.update_user(session, actor, CONTEXT, "tina", changes)

    # read, update (for email) and assign_role (for site_roles).
    assert decisions[0] == 3


def test_create_user_conflict_found_by_index(engine: Engine) -> None:
    world = build_world(engine)
    statements: list[str] = []

    def capture(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    with Session(engine) as session:
        actor = actor_named(session, world, "olivia")
        event.listen(engine, "before_cursor_execute", capture)
        try:
            with pytest.raises(UsernameTaken):
                store.create_user(session, actor, CONTEXT, username="TINA", email="t@x.test")
        finally:
            event.remove(engine, "before_cursor_execute", capture)

    # The INSERT fails on the unique index on lower(username). No SELECT checks first.
    assert any(statement.startswith("INSERT INTO users") for statement in statements)
    assert not any(statement.lstrip().upper().startswith("SELECT") for statement in statements)
