from __future__ import annotations


class UserError(Exception):
    """Base class for errors of the users domain."""


class UserNotFound(UserError):
    """No user matches the reference, or the actor may not see that user."""


class InvalidUsername(UserError):
    """The username breaks a naming rule; the message states the rule."""


class UsernameTaken(UserError):
    """Another user already has this username, compared case-insensitively."""


class LastOwner(UserError):
    """The change would leave the site without an active user holding the owner role."""
