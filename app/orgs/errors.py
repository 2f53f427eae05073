from __future__ import annotations


class OrganizationError(Exception):
    """Base class for errors of the organizations domain."""


class OrganizationNotFound(OrganizationError):
    """No organization matches, or the actor may not see it."""


class OrganizationNameTaken(OrganizationError):
    """Another organization already has this name, compared case-insensitively."""
