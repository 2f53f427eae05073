"""HTTP views for organizations and memberships: `/api/v2/organizations`.

`{org}` in a path is an organization name (any case) or id, and `{user}` a username
(any case), user id or `me`. Lists are bare JSON arrays. Hidden objects are 404, and a
change the caller may not make to an object it can read is 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from app.api.auth import current_actor
from app.api.bodies import json_object_body, raise_invalid, string_field
from app.api.context import audit_context
from app.api.errors import APIError, Validation
from app.authz import Forbidden
from app.db.session import get_session
from app.orgs import store
from app.orgs.errors import (
    AlreadyMember,
    InvalidOrganizationName,
    MemberNotFound,
    OrganizationNameTaken,
    OrganizationNotFound,
    UnknownMemberUser,
)
from app.orgs.models import ORG_MEMBER_ROLES, Organization
from app.orgs.store import Membership
from app.orgs.validation import check_organization_name
from app.users.errors import InvalidUsername
from app.users.validation import check_username

blueprint = Blueprint("organizations", __name__, url_prefix="/api/v2/organizations")

ORGANIZATION_FIELDS = frozenset({"name"})
ADD_MEMBER_FIELDS = frozenset({"username", "role"})
ROLE_FIELDS = frozenset({"role"})
DEFAULT_MEMBER_ROLE = "org-member"


def organization_json(org: Organization) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "created_at": org.created_at.isoformat(),
        "updated_at": org.updated_at.isoformat(),
    }


def member_json(membership: Membership) -> dict[str, Any]:
    member = membership.member
    return {
        "organization_id": str(member.organization_id),
        "user_id": str(member.user_id),
        "username": membership.user.username,
        "role": member.role,
        "created_at": member.created_at.isoformat(),
        "updated_at": member.updated_at.isoformat(),
    }


@blueprint.post("")
def create_organization() -> Response:
    actor = current_actor()
    session = get_session()
    name = _checked_name(json_object_body(ORGANIZATION_FIELDS, ORGANIZATION_FIELDS))

    try:
        org = store.create_organization(session, actor, audit_context(actor), name)
    except Forbidden as error:
        raise _forbidden(error) from None
    except OrganizationNameTaken:
        raise _name_taken() from None
    session.commit()

    response = jsonify(organization_json(org))
    response.status_code = 201
    response.headers["Location"] = url_for("organizations.get_organization", org=str(org.id))
    return response


@blueprint.get("")
def list_organizations() -> list[dict[str, Any]]:
    actor = current_actor()
    session = get_session()
    result = [organization_json(org) for org in store.list_organizations(session, actor)]
    session.commit()
    return result


@blueprint.get("/<string:org>")
def get_organization(org: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    try:
        found = store.get_organization(session, actor, org)
    except OrganizationNotFound:
        raise _organization_not_found() from None
    result = organization_json(found)
    session.commit()
    return result


@blueprint.patch("/<string:org>")
def rename_organization(org: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    name = _checked_name(json_object_body(ORGANIZATION_FIELDS, ORGANIZATION_FIELDS))

    try:
        renamed = store.rename_organization(session, actor, audit_context(actor), org, name)
    except OrganizationNotFound:
        raise _organization_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    except OrganizationNameTaken:
        raise _name_taken() from None
    result = organization_json(renamed)
    session.commit()
    return result


@blueprint.delete("/<string:org>")
def delete_organization(org: str) -> tuple[str, int]:
    actor = current_actor()
    session = get_session()
    try:
        store.delete_organization(session, actor, audit_context(actor), org)
    except OrganizationNotFound:
        raise _organization_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    session.commit()
    return "", 204


@blueprint.get("/<string:org>/members")
def list_members(org: str) -> list[dict[str, Any]]:
    actor = current_actor()
    session = get_session()
    try:
        memberships = store.list_members(session, actor, org)
    except OrganizationNotFound:
        raise _organization_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    result = [member_json(membership) for membership in memberships]
    session.commit()
    return result


@blueprint.post("/<string:org>/members")
def add_member(org: str) -> Response:
    actor = current_actor()
    session = get_session()
    body = json_object_body(ADD_MEMBER_FIELDS, {"username"})

    validations: list[Validation] = []
    username = string_field(body, "username", validations)
    if username is not None:
        try:
            check_username(username)
        except InvalidUsername as error:
            validations.append(Validation("username", str(error)))
    role = _checked_role(body, validations)
    # username is required, so None here always comes with a validation.
    if validations or username is None:
        raise_invalid(validations)

    try:
        membership = store.add_member(
            session, actor, audit_context(actor), org, username, role or DEFAULT_MEMBER_ROLE
        )
    except OrganizationNotFound:
        raise _organization_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    except UnknownMemberUser:
        raise_invalid([Validation("username", "no user has this username")])
    except AlreadyMember:
        raise APIError(
            409,
            "Already a member.",
            "The user is already a member of this organization. "
            "To change the role, send PATCH to the member instead.",
            validations=[Validation("username", "already a member")],
        ) from None
    session.commit()

    response = jsonify(member_json(membership))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "organizations.get_member",
        org=str(membership.organization.id),
        user=str(membership.user.id),
    )
    return response


@blueprint.get("/<string:org>/members/<string:user>")
def get_member(org: str, user: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    try:
        membership = store.get_member(session, actor, org, user)
    except OrganizationNotFound:
        raise _organization_not_found() from None
    except MemberNotFound:
        raise _member_not_found() from None
    result = member_json(membership)
    session.commit()
    return result


@blueprint.patch("/<string:org>/members/<string:user>")
def set_member_role(org: str, user: str) -> dict[str, Any]:
    actor = current_actor()
    session = get_session()
    body = json_object_body(ROLE_FIELDS, ROLE_FIELDS)
    validations: list[Validation] = []
    role = _checked_role(body, validations)
    # role is required, so None here always comes with a validation.
    if validations or role is None:
        raise_invalid(validations)

    try:
        membership = store.set_member_role(session, actor, audit_context(actor), org, user, role)
    except OrganizationNotFound:
        raise _organization_not_found() from None
    except MemberNotFound:
        raise _member_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    result = member_json(membership)
    session.commit()
    return result


@blueprint.delete("/<string:org>/members/<string:user>")
def remove_member(org: str, user: str) -> tuple[str, int]:
    actor = current_actor()
    session = get_session()
    try:
        store.remove_member(session, actor, audit_context(actor), org, user)
    except OrganizationNotFound:
        raise _organization_not_found() from None
    except MemberNotFound:
        raise _member_not_found() from None
    except Forbidden as error:
        raise _forbidden(error) from None
    session.commit()
    return "", 204


def _checked_name(body: dict[str, Any]) -> str:
    validations: list[Validation] = []
    name = string_field(body, "name", validations)
    if name is not None:
        try:
            check_organization_name(name)
        except InvalidOrganizationName as error:
            validations.append(Validation("name", str(error)))
    # name is required, so None here always comes with a validation.
    if validations or name is None:
        raise_invalid(validations)
    return name


def _checked_role(body: dict[str, Any], validations: list[Validation]) -> str | None:
    role = string_field(body, "role", validations)
    if role is not None and role not in ORG_MEMBER_ROLES:
        validations.append(Validation("role", f"must be one of {', '.join(ORG_MEMBER_ROLES)}"))
        return None
    return role


def _organization_not_found() -> APIError:
    return APIError(
        404,
        "Organization not found.",
        "No organization that you may read matches the reference.",
    )


def _member_not_found() -> APIError:
    return APIError(
        404,
        "Member not found.",
        "The user is not a member of this organization, or you may not read the membership.",
    )


def _name_taken() -> APIError:
    return APIError(
        409,
        "Organization name taken.",
        "Another organization has this name, compared case-insensitively. Choose another.",
        validations=[Validation("name", "already taken")],
    )


def _forbidden(error: Forbidden) -> APIError:
    resource = error.resource.replace("_", " ")
    return APIError(
        403, "Forbidden.", f"Your roles do not allow {error.action!r} on this {resource}."
    )
