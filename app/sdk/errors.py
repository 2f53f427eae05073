"""Exceptions the SDK raises: one class per kind of HTTP error, one for transport failures.

Messages and reprs carry the server's message, detail and field rules, which never
contain a submitted value, and never the request body, so no secret value reaches a
traceback or a log through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One failing field of a request: the field name and the rule it broke."""

    field: str
    detail: str


class UserSecretsError(Exception):
    """Base class of every exception the SDK raises."""


class ConnectionFailed(UserSecretsError):
    """The request did not complete: connection refused, timed out, or cut off."""


class APIError(UserSecretsError):
    """The server responded with an error status (4xx or 5xx).

    `message` and `detail` are the server's; `validations` lists each failing field.
    """

    def __init__(
        self,
        status: int,
        message: str,
        detail: str = "",
        validations: Iterable[FieldError] = (),
    ) -> None:
        self.status = status
        self.message = message
        self.detail = detail
        self.validations = list(validations)
        super().__init__(status, message)

    def __str__(self) -> str:
        text = f"{self.status} {self.message}"
        if self.detail:
            text += f" {self.detail}"
        for error in self.validations:
            text += f" [{error.field}: {error.detail}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, message={self.message!r}, "
            f"detail={self.detail!r}, validations={self.validations!r})"
        )


class ValidationError(APIError):
    """The request was invalid: 400, 413 (body too large) or 415 (not JSON).

    The SDK also raises it with status 400 before sending, when its own checks fail.
    """


class Unauthorized(APIError):
    """401: the token is missing, malformed, expired or revoked, or its user is suspended."""


class Forbidden(APIError):
    """403: the caller may see the collection but not change it."""


class NotFound(APIError):
    """404: the user or secret does not exist, or the caller may not see it."""


class Conflict(APIError):
    """409: another secret of the user has the same name, env_name or file_path.

    `validations` names the field.
    """


class PreconditionFailed(APIError):
    """412: the secret changed since the version given as `if_version`."""


class ServerError(APIError):
    """5xx: the server failed. Its detail names a request id to report."""


_ERROR_CLASSES: dict[int, type[APIError]] = {
    400: ValidationError,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: ValidationError,
    415: ValidationError,
}


def error_class(status: int) -> type[APIError]:
    """Return the exception class for an HTTP error status."""
    if status >= 500:
        return ServerError
    return _ERROR_CLASSES.get(status, APIError)
