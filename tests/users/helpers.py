"""A small population of users and organizations for the access tests of the users,
tokens and organizations APIs, with the expected decisions read from roles/matrix.csv.

The population: `tina` (the object of most requests) is an org-member of `acme`. Each
actor kind below is one user whose relations to tina, acme, tina's membership of acme
and tina's tokens are written out by hand in `relations`. The expected decision for an
actor is then "any role it holds allows the action on some relation that holds",
which is how roles/README.md describes combining roles.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.audit.models import AuditLog
from app.authz.roles import Cell, default_matrix
from app.users.models import User
from tests.support.factories import add_member, bearer, make_org, make_token, make_user

ACTOR_KINDS = (
    "owner",
    "auditor",
    "user-admin",
    "self",
    "member",
    "org-admin",
    "org-member",
    "other-org-admin",
    "other-org-member",
)

# Username, site roles, and the org role held in acme or globex for each actor kind.
_ACTOR_USERS: dict[str, tuple[str, tuple[str, ...], str | None, str | None]] = {
    "owner": ("olivia", ("owner",), None, None),
    "auditor": ("audrey", ("auditor",), None, None),
    "user-admin": ("ursula", ("user-admin",), None, None),
    "self": ("tina", (), "org-member", None),
    "member": ("mike", (), None, None),
    "org-admin": ("adam", (), "org-admin", None),
    "org-member": ("mona", (), "org-member", None),
    "other-org-admin": ("oscar", (), None, "org-admin"),
    "other-org-member": ("gina", (), None, "org-member"),
}

# Objects of requests, by kind:
#   tina          the user tina, who is in acme
#   acme          the organization acme
#   tina@acme     tina's membership of acme
#   tina-token    an API token of tina
#   newbie@acme   a membership of acme about to be created for `newbie`, in no org yet
#   new           a user or organization about to be created, related to nobody
OBJECT_KINDS = ("tina", "acme", "tina@acme", "tina-token", "newbie@acme", "new")

_IN_ACME = frozenset({"self", "org-admin", "org-member"})


def relations(actor_kind: str, object_kind: str) -> frozenset[str]:
    """Return the relations between an actor kind and an object kind, per roles/catalog.toml."""
    if object_kind in ("tina", "tina@acme"):
        if actor_kind == "self":
            return frozenset({"self", "org"})
        return frozenset({"org"}) if actor_kind in _IN_ACME else frozenset({"other"})
    if object_kind == "tina-token":
        return frozenset({"self"}) if actor_kind == "self" else frozenset({"other"})
    if object_kind in ("acme", "newbie@acme"):
        return frozenset({"org"}) if actor_kind in _IN_ACME else frozenset({"other"})
    if object_kind == "new":
        return frozenset({"other"})
    raise ValueError(f"unknown object kind {object_kind!r}")


def expected_allowed(actor_kind: str, object_kind: str, resource: str, action: str) -> bool:
    """Return the matrix's decision for an actor kind doing `action` on an object kind."""
    matrix = default_matrix()
    _, site_roles, acme_role, _ = _ACTOR_USERS[actor_kind]
    held_site_roles = {"member", *site_roles}
    acme_roles = {"org-member", acme_role} if acme_role else set()
    object_in_acme = object_kind in ("tina", "acme", "tina@acme", "newbie@acme")

    for relation in relations(actor_kind, object_kind):
        roles = set(held_site_roles)
        if relation == "org" and object_in_acme:
            roles |= acme_roles
        if any(matrix[Cell(role, relation, resource, action)] for role in roles):
            return True
    return False


@dataclass(frozen=True)
class World:
    """Ids and tokens of the population, by actor kind and by name."""

    tokens: dict[str, str]
    user_ids: dict[str, uuid.UUID]
    acme_id: uuid.UUID
    globex_id: uuid.UUID
    # A second token of tina, so tina's requests can revoke it without logging out.
    tina_spare_token_id: str


def build_world(engine: Engine) -> World:
    """Create the population and commit it."""
    tokens: dict[str, str] = {}
    user_ids: dict[str, uuid.UUID] = {}
    with Session(engine) as session:
        acme = make_org(session, "acme")
        globex = make_org(session, "globex")
        for kind, (username, site_roles, acme_role, globex_role) in _ACTOR_USERS.items():
            user = make_user(session, username, site_roles=site_roles, email=f"{username}@x.test")
            if acme_role:
                add_member(session, acme, user, role=acme_role)
            if globex_role:
                add_member(session, globex, user, role=globex_role)
            tokens[kind] = make_token(session, user)
            user_ids[username] = user.id
        tina = session.get_one(User, user_ids["tina"])
        spare_token = make_token(session, tina)
        newbie = make_user(session, "newbie")
        user_ids["newbie"] = newbie.id
        world = World(
            tokens=tokens,
            user_ids=user_ids,
            acme_id=acme.id,
            globex_id=globex.id,
            tina_spare_token_id=spare_token.split("-", 1)[0],
        )
        session.commit()
    return world


def call(
    client: FlaskClient,
    method: str,
    path: str,
    token: str,
    body: Any = None,
) -> TestResponse:
    """Send one API request with a bearer token and, unless `body` is None, a JSON body."""
    if body is None:
        return client.open(path, method=method, headers=bearer(token))
    return client.open(path, method=method, headers=bearer(token), json=body)


def count_audit_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditLog)) or 0


def audit_rows(engine: Engine) -> list[AuditLog]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditLog).order_by(AuditLog.time, AuditLog.id)))


def validation_fields(response: TestResponse) -> list[str]:
    body = response.json
    assert body is not None
    return [validation["field"] for validation in body["validations"]]


@dataclass(frozen=True)
class EndpointCase:
    """One request of the access tests and how its status follows from the matrix.

    `gates` are (object kind, resource, action) decisions that make the response 404
    when any is denied. `checks` are decisions that make it 403 when any is denied.
    When all are allowed, the response status is `success`.
    """

    method: str
    path: str
    body: Any
    gates: tuple[tuple[str, str, str], ...]
    checks: tuple[tuple[str, str, str], ...]
    success: int

    def expected_status(self, actor_kind: str) -> int:
        if not all(expected_allowed(actor_kind, *gate) for gate in self.gates):
            return 404
        if not all(expected_allowed(actor_kind, *check) for check in self.checks):
            return 403
        return self.success

    @property
    def is_mutation(self) -> bool:
        return self.method != "GET"


def format_path(path: str, world: World) -> str:
    return path.format(
        tina_id=world.user_ids["tina"],
        spare=world.tina_spare_token_id,
        acme_id=world.acme_id,
    )
