from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.support.factories import add_member, make_org, make_token, make_user


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    username: str
    token: str


@pytest.fixture
def people(engine: Engine) -> dict[str, Person]:
    """One user per role, keyed by role name; `member` has only the implicit role."""
    result: dict[str, Person] = {}
    with Session(engine) as session:
        org = make_org(session, "acme")
        for role in ("owner", "auditor", "user-admin", "member", "org-admin", "org-member"):
            site_roles = [role] if role in ("owner", "auditor", "user-admin") else []
            user = make_user(session, f"{role}-user", site_roles=site_roles)
            if role.startswith("org-"):
                add_member(session, org, user, role=role)
            token = make_token(session, user)
            result[role] = Person(id=user.id, username=user.username, token=token)
        session.commit()
    return result
