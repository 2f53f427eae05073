"""Typed errors of the user-secrets data layer. None of them carries a secret value."""

from __future__ import annotations

from app.secrets.validation import Violation


class SecretError(Exception):
    """Base class for errors of the user-secrets domain."""


class SecretNotFound(SecretError):
    """The user has no secret with this name."""

    def __init__(self, name: str) -> None:
        super().__init__("secret not found")
        self.name = name


class InvalidSecret(SecretError):
    """Submitted fields break one or more rules, and `violations` lists every failing field.

    `detail` explains a problem that belongs to no single field, such as a change request
    that names no field at all.
    """

    def __init__(self, violations: list[Violation], detail: str = "") -> None:
        fields = ", ".join(violation.field for violation in violations)
        super().__init__(detail or f"invalid fields: {fields}")
        self.violations = violations
        self.detail = detail


class SecretConflict(SecretError):
    """Another secret of the same user already has this name, env_name or file_path.

    `field` is the field whose unique index the write violated.
    """

    def __init__(self, field: str) -> None:
        super().__init__(f"another secret of this user has the same {field}")
        self.field = field


class PreconditionFailed(SecretError):
    """The secret exists, but its version is not the version the caller expected."""

    def __init__(self, expected_version: int) -> None:
        super().__init__(f"the secret is no longer at version {expected_version}")
        self.expected_version = expected_version
