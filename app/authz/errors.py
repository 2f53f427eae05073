from __future__ import annotations


class AuthzError(Exception):
    """Base class for authorization errors."""


class Forbidden(AuthzError):
    """The actor may not perform the action. The message names the action and resource
    type but never a secret's value."""

    def __init__(self, action: str, resource: str) -> None:
        super().__init__(f"not allowed to {action} {resource}")
        self.action = action
        self.resource = resource


class PolicyLoadError(AuthzError):
    """The policy files could not be loaded; the message names the file and the problem."""
