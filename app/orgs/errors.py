from __future__ import annotations


class OrganizationError(Exception):
    """Base class for errors of the organizations domain."""


class OrganizationNotFound(OrganizationError):
    """No organization matches, or the actor may not see it."""


class OrganizationNameTaken(OrganizationError):
    """Another organization already has this name, compared case-insensitively."""


class InvalidOrganizationName(OrganizationError):
    """The organization name breaks a naming rule; the message states the rule."""


class MemberNotFound(OrganizationError):
    """The user is not a member of the organization, or the actor may not see the membership."""


class AlreadyMember(OrganizationError):
    """The user is already a member of the organization."""


class UnknownMemberUser(OrganizationError):
    """No user has the username given for a new member."""
