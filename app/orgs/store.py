"""The authorized data layer for organizations and their memberships.

Every function takes the acting user and checks the policy before it returns or
changes a row. Mutations also write their audit row. Membership functions read the
organization first, so an organization the actor may not read is not found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext, Snapshot, record_change, snapshot
from app.authz import Actor, Forbidden, Target, authorize, list_scope
from app.db.base import utcnow
from app.db.errors import violated_unique_constraint
from app.orgs.errors import (
    AlreadyMember,
    MemberNotFound,
    OrganizationNameTaken,
    OrganizationNotFound,
    UnknownMemberUser,
)
from app.orgs.models import Organization, OrganizationMember
from app.orgs.validation import could_be_organization_name
from app.users.models import User
from app.users.store import find_user, find_user_by_username
from app.users.validation import parse_uuid

NAME_INDEX = "uq_organizations_name_lower"
MEMBER_PRIMARY_KEY = "pk_organization_members"
ORG_ADMIN_ROLE = "org-admin"


@dataclass(frozen=True)
class Membership:
    """A membership row with the organization and user it joins."""

    member: OrganizationMember
    organization: Organization
    user: User


def organization_target(org_id: uuid.UUID) -> Target:
    """Describe an organization for the policy: it has no owner and is in itself."""
    return Target("organization", org_ids=frozenset({org_id}))


def member_target(org_id: uuid.UUID, user_id: uuid.UUID) -> Target:
    """Describe a membership for the policy: its user owns it, and it is in its organization."""
    return Target("organization_member", owner_id=user_id, org_ids=frozenset({org_id}))


def find_organization(session: Session, reference: str) -> Organization | None:
    """Look an organization up by UUID or name (any case), without an access check."""
    org_id = parse_uuid(reference)
    if org_id is not None:
        return session.get(Organization, org_id)
    if not could_be_organization_name(reference):
        return None
    return session.scalars(
        select(Organization).where(func.lower(Organization.name) == reference.lower())
    ).one_or_none()


def get_organization(session: Session, actor: Actor, reference: str) -> Organization:
    """Return the organization if the actor may read it, else raise OrganizationNotFound."""
    org = find_organization(session, reference)
    if org is None:
        raise OrganizationNotFound(reference)
    try:
        authorize(actor, "read", organization_target(org.id))
    except Forbidden:
        raise OrganizationNotFound(reference) from None
    return org


def list_organizations(session: Session, actor: Actor) -> list[Organization]:
    """Return the organizations the actor may read, sorted by name, with one decision."""
    scope = list_scope(actor, "read", "organization")
    # An organization has no owner, so `scope.own` never applies: the relation is `org`
    # for the actor's organizations and `other` for the rest.
    visible: list[ColumnElement[bool]] = []
    if scope.org_ids:
        visible.append(Organization.id.in_(scope.org_ids))
    if scope.other:
        visible.append(~Organization.id.in_(scope.member_org_ids))
    if not visible:
        return []

    orgs = session.scalars(select(Organization).where(or_(false(), *visible))).all()
    # Sorted here instead of in SQL, so the order does not depend on the database collation.
    return sorted(orgs, key=lambda org: (org.name.lower(), org.name))


def create_organization(
    session: Session, actor: Actor, audit: AuditContext, name: str
) -> Organization:
    """Insert an organization after authorizing `create`.

    Raise OrganizationNameTaken when another organization has the name.

    The unique index on lower(name) is the only check for a taken name.
    """
    org_id = uuid.uuid4()
    authorize(actor, "create", organization_target(org_id))

    now = utcnow()
    org = Organization(id=org_id, name=name, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(org)
    except IntegrityError as error:
        _raise_if_name_taken(error, name)
        raise
    record_change(
        session,
        audit,
        action="create",
        model=Organization,
        resource_id=str(org.id),
        target=org.name,
        organization_id=org.id,
        new=snapshot(org),
    )
    return org


def rename_organization(
    session: Session, actor: Actor, audit: AuditContext, reference: str, name: str
) -> Organization:
    """Rename an organization. Raise OrganizationNotFound, Forbidden or OrganizationNameTaken."""
    org = get_organization(session, actor, reference)
    authorize(actor, "update", organization_target(org.id))

    old = snapshot(org)
    # The change is made inside the savepoint: begin_nested() flushes pending changes
    # before it starts one, and a failed flush there would abort the whole transaction.
    try:
        with session.begin_nested():
            org.name = name
            org.updated_at = utcnow()
    except IntegrityError as error:
        _raise_if_name_taken(error, name)
        raise
    record_change(
        session,
        audit,
        action="write",
        model=Organization,
        resource_id=str(org.id),
        target=org.name,
        organization_id=org.id,
        old=old,
        new=snapshot(org),
    )
    return org


def delete_organization(
    session: Session, actor: Actor, audit: AuditContext, reference: str
) -> None:
    """Delete an organization; the database deletes its memberships with it."""
    org = get_organization(session, actor, reference)
    authorize(actor, "delete", organization_target(org.id))

    member_count = session.scalar(
        select(func.count())
        .select_from(OrganizationMember)
        .where(OrganizationMember.organization_id == org.id)
    )
    old = snapshot(org)
    # ON DELETE CASCADE on organization_members removes the memberships.
    session.execute(delete(Organization).where(Organization.id == org.id))
    session.expunge(org)
    record_change(
        session,
        audit,
        action="delete",
        model=Organization,
        resource_id=str(old["id"]),
        target=str(old["name"]),
        organization_id=old["id"],
        old=old,
        additional_fields={"deleted_with_organization": {"organization_members": member_count}},
    )


def list_members(session: Session, actor: Actor, org_reference: str) -> list[Membership]:
    """Return the memberships of an organization that the actor may read, by username.

    Two decisions: the organization's `read` and the membership list scope. Raise
    OrganizationNotFound when the organization is hidden, and Forbidden when it is
    visible but none of its memberships are.
    """
    org = get_organization(session, actor, org_reference)
    scope = list_scope(actor, "read", "organization_member")

    # Every row is in `org`. When the actor is a member of `org`, every row relates to it
    # by `org`, and the actor's own row also by `self`. Otherwise every row is `other`.
    visible: list[ColumnElement[bool]] = []
    if org.id in scope.org_ids:
        visible.append(OrganizationMember.user_id.is_not(None))
    if scope.own:
        visible.append(OrganizationMember.user_id == actor.user_id)
    if scope.other and org.id not in scope.member_org_ids:
        visible.append(OrganizationMember.user_id != actor.user_id)
    if not visible:
        raise Forbidden("read", "organization_member")

    rows = session.execute(
        select(OrganizationMember, User)
        .join(User, User.id == OrganizationMember.user_id)
        .where(OrganizationMember.organization_id == org.id, or_(false(), *visible))
    ).all()
    memberships = [Membership(member, org, user) for member, user in rows]
    return sorted(memberships, key=lambda row: (row.user.username.lower(), row.user.username))


def get_member(
    session: Session, actor: Actor, org_reference: str, user_reference: str
) -> Membership:
    """Return one membership. Raise OrganizationNotFound or MemberNotFound when it is hidden."""
    return _read_member(session, actor, org_reference, user_reference)


def add_member(
    session: Session,
    actor: Actor,
    audit: AuditContext,
    org_reference: str,
    username: str,
    role: str,
) -> Membership:
    """Add the user named `username` to an organization with `role`.

    Authorizes `create` on the new membership, and also `assign_role` when `role` is
    org-admin. Raise OrganizationNotFound, Forbidden, UnknownMemberUser or AlreadyMember.
    """
    org = get_organization(session, actor, org_reference)
    user = find_user_by_username(session, username)
    if user is None:
        # Decide on a membership with no user first, so an actor who may not add members
        # gets Forbidden and learns nothing about which usernames exist.
        authorize(actor, "create", Target("organization_member", org_ids=frozenset({org.id})))
        raise UnknownMemberUser(username)
    target = member_target(org.id, user.id)
    authorize(actor, "create", target)
    if role == ORG_ADMIN_ROLE:
        authorize(actor, "assign_role", target)

    now = utcnow()
    member = OrganizationMember(
        organization_id=org.id, user_id=user.id, role=role, created_at=now, updated_at=now
    )
    try:
        with session.begin_nested():
            session.add(member)
    except IntegrityError as error:
        if violated_unique_constraint(error) == MEMBER_PRIMARY_KEY:
            raise AlreadyMember(username) from None
        raise

    _record_member_change(session, audit, "create", org, user, old=None, new=member)
    return Membership(member, org, user)


def set_member_role(
    session: Session,
    actor: Actor,
    audit: AuditContext,
    org_reference: str,
    user_reference: str,
    role: str,
) -> Membership:
    """Change a member's organization role, which needs `assign_role` on the membership."""
    membership = _read_member(session, actor, org_reference, user_reference)
    member, org, user = membership.member, membership.organization, membership.user
    authorize(actor, "assign_role", member_target(org.id, user.id))

    old = snapshot(member)
    member.role = role
    member.updated_at = utcnow()
    session.flush()
    _record_member_change(session, audit, "write", org, user, old=old, new=member)
    return membership


def remove_member(
    session: Session, actor: Actor, audit: AuditContext, org_reference: str, user_reference: str
) -> None:
    """Remove a user from an organization, which needs `delete` on the membership."""
    membership = _read_member(session, actor, org_reference, user_reference)
    member, org, user = membership.member, membership.organization, membership.user
    authorize(actor, "delete", member_target(org.id, user.id))

    old = snapshot(member)
    session.delete(member)
    session.flush()
    _record_member_change(session, audit, "delete", org, user, old=old, new=None)


def _read_member(
    session: Session, actor: Actor, org_reference: str, user_reference: str
) -> Membership:
    org = get_organization(session, actor, org_reference)
    # The user itself needs no `read` decision: the membership's own `read` decides.
    user = find_user(session, actor, user_reference)
    member = None if user is None else session.get(OrganizationMember, (org.id, user.id))
    if user is None or member is None:
        raise MemberNotFound(user_reference)
    try:
        authorize(actor, "read", member_target(org.id, user.id))
    except Forbidden:
        raise MemberNotFound(user_reference) from None
    return Membership(member, org, user)


def _raise_if_name_taken(error: IntegrityError, name: str) -> None:
    if violated_unique_constraint(error) == NAME_INDEX:
        raise OrganizationNameTaken(name) from None


def _record_member_change(
    session: Session,
    audit: AuditContext,
    action: str,
    org: Organization,
    user: User,
    *,
    old: Snapshot | None,
    new: OrganizationMember | None,
) -> None:
    # A membership has a two-column key, and two UUIDs do not fit resource_id. The audit
    # row is keyed by the user id and carries the organization id in its own column.
    record_change(
        session,
        audit,
        action=action,
        model=OrganizationMember,
        resource_id=str(user.id),
        target=f"{org.name}/{user.username}",
        owner_id=user.id,
        organization_id=org.id,
        old=old,
        new=None if new is None else snapshot(new),
    )
