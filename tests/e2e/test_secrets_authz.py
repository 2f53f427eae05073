"""Who reaches a member's secrets over HTTP, against the real server process.

A user secret belongs to its user alone: no site role and no organization role reaches
another user's secrets. Listing or creating in another user's name is 403 when the
caller may see that user and 404 when it may not. Reading, changing or deleting one
secret of another user is always 404, so a secret's existence never leaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from tests.support.factories import add_member, make_org, make_token, make_user
from tests.support.server import ServerProcess, service_env

pytestmark = pytest.mark.e2e

SECRET_NAME = "db-password"
OPERATIONS = ("list", "create", "get", "update", "delete")


@dataclass(frozen=True)
class Cast:
    """Tokens of the users in the test, and the member's id."""

    member_id: str
    member: str
    site_owner: str
    org_admin: str
    auditor: str
    other_member: str


@pytest.fixture
def cast(engine: Engine) -> Cast:
    """Mia is a member of acme, and Oscar is its org admin. The others have no org role."""
    with Session(engine) as session:
        mia = make_user(session, "mia")
        acme = make_org(session, "acme")
        add_member(session, acme, mia)
        oscar = make_user(session, "oscar")
        add_member(session, acme, oscar, role="org-admin")
        cast = Cast(
            member_id=str(mia.id),
            member=make_token(session, mia),
            site_owner=make_token(session, make_user(session, "olivia", site_roles=["owner"])),
            org_admin=make_token(session, oscar),
            auditor=make_token(session, make_user(session, "audrey", site_roles=["auditor"])),
            other_member=make_token(session, make_user(session, "bob")),
        )
        session.commit()
    return cast


def attempt(client: httpx.Client, token: str, operation: str, user: str) -> int:
    """Perform one operation on the member's secrets as `token`; return the status code."""
    headers = {"Authorization": f"Bearer {token}"}
    collection = f"/api/v2/users/{user}/secrets"
    item = f"{collection}/{SECRET_NAME}"
    if operation == "list":
        response = client.get(collection, headers=headers)
    elif operation == "create":
        body = {"name": f"planted-{operation}", "value": "planted"}
        response = client.post(collection, json=body, headers=headers)
    elif operation == "get":
        response = client.get(item, headers=headers)
    elif operation == "update":
        response = client.patch(item, json={"description": "changed"}, headers=headers)
    else:
        response = client.delete(item, headers=headers)
    return response.status_code


def expected_denial(may_see_member: bool, operation: str) -> int:
    """Return the status for another user's attempt: 403 only on a visible collection."""
    if operation in ("list", "create") and may_see_member:
        return 403
    return 404


def test_secrets_other_roles_denied_member_allowed(
    database_url: URL, tmp_path: Path, cast: Cast
) -> None:
    intruders = {
        "site owner": cast.site_owner,
        "org admin": cast.org_admin,
        "auditor": cast.auditor,
        "other member": cast.other_member,
    }
    # Owners and auditors may read every user, so list and create are 403 for them.
    # The org admin and the other member may not read Mia at all, so they get 404.
    may_see_member = {"site owner", "auditor"}
    expected = {
        (who, reference, operation): expected_denial(who in may_see_member, operation)
        for who in intruders
        for reference in ("username", "id")
        for operation in OPERATIONS
    }

    env = service_env(database_url, tmp_path / "data")
    with ServerProcess(env) as server, httpx.Client(base_url=server.url) as client:
        member_headers = {"Authorization": f"Bearer {cast.member}"}
        created = client.post(
            "/api/v2/users/me/secrets",
            json={"name": SECRET_NAME, "value": "mia's value", "description": "original"},
            headers=member_headers,
        )
        assert created.status_code == 201

        outcomes = {
            (who, reference, operation): attempt(
                client, token, operation, "mia" if reference == "username" else cast.member_id
            )
            for who, token in intruders.items()
            for reference in ("username", "id")
            for operation in OPERATIONS
        }
        untouched = client.get(f"/api/v2/users/me/secrets/{SECRET_NAME}", headers=member_headers)
        listed = client.get("/api/v2/users/me/secrets", headers=member_headers)
        member_outcomes = {
            operation: attempt(client, cast.member, operation, "mia") for operation in OPERATIONS
        }

    assert outcomes == expected
    assert untouched.status_code == 200
    assert untouched.headers["ETag"] == '"1"'
    assert untouched.json()["description"] == "original"
    assert [secret["name"] for secret in listed.json()] == [SECRET_NAME]
    assert member_outcomes == {
        "list": 200,
        "create": 201,
        "get": 200,
        "update": 200,
        "delete": 204,
    }
