"""The HTTP client for the usersecrets API (`/api/v2`)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx

from app.sdk.errors import APIError, ConnectionFailed, FieldError, ValidationError, error_class
from app.sdk.models import AuditLogPage, Secret, User
from app.secrets.validation import Violation, validate_new_secret, validate_secret_changes

DEFAULT_TIMEOUT_SECONDS = 10.0
API_PREFIX = "/api/v2"
USER_AGENT = "usersecrets-sdk"

T = TypeVar("T")


class Unset(enum.Enum):
    """The type of UNSET, for annotations."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


# The default of update_secret's fields: the field is left out of the request and keeps
# its value on the server. Passing "" instead clears the field.
UNSET: Final = Unset.UNSET


def quote_segment(text: str) -> str:
    """Percent-encode `text` as one URL path segment.

    quote(safe="") encodes '/', '?', '#' and '%'. A segment of dots only is encoded as
    %2E too, because httpx removes "." and ".." segments from a path (RFC 3986 dot
    segment removal), which would send the request to another resource.
    """
    quoted = quote(text, safe="")
    if quoted and quoted.strip(".") == "":
        return "%2E" * len(quoted)
    return quoted


def parse_etag(value: str | None) -> int | None:
    """Return the version in an ETag such as `"3"` (or weak `W/"3"`), else None."""
    if value is None:
        return None
    tag = value.strip().removeprefix("W/")
    if len(tag) < 3 or not (tag.startswith('"') and tag.endswith('"')):
        return None
    version = tag[1:-1]
    return int(version) if version.isascii() and version.isdigit() else None


class Client:
    """A client for one server and one API token; a context manager that closes itself.

    Every method raises an APIError subclass for an error response and ConnectionFailed
    when no response arrived. `user` arguments take "me", a username or a user id.

    A new endpoint method builds its path with `path()`, sends the request with
    `_request()` and converts the body with `_parse()`.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        # The token stays out of the repr.
        return f"Client(base_url={self.base_url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool. The client cannot send requests afterwards."""
        self._http.close()

    # Users

    def me(self) -> User:
        """Return the user the token belongs to."""
        return self.get_user("me")

    def get_user(self, ref: str) -> User:
        """Return the user `ref` names: "me", a username (any case) or a user id."""
        response = self._request("GET", path("users", ref))
        return self._parse(response, User.from_json)

    # Secrets

    def create_secret(
        self,
        name: str,
        value: str,
        *,
        description: str = "",
        env_name: str = "",
        file_path: str = "",
        user: str = "me",
    ) -> Secret:
        """Create a secret for `user` and return its metadata, version 1.

        The fields are checked by the server's rules before sending, and a
        ValidationError lists every failing field without a round trip.
        """
        body = {
            "name": name,
            "value": value,
            "description": description,
            "env_name": env_name,
            "file_path": file_path,
        }
        _raise_for_violations(validate_new_secret(body))
        response = self._request("POST", path("users", user, "secrets"), json=body)
        return self._parse_secret(response)

    def list_secrets(self, user: str = "me") -> list[Secret]:
        """Return the metadata of every secret of `user`, sorted by name."""
        response = self._request("GET", path("users", user, "secrets"))
        return self._parse(response, _secret_list)

    def get_secret(self, name: str, user: str = "me") -> Secret:
        """Return the metadata of the secret `name` of `user`."""
        response = self._request("GET", path("users", user, "secrets", name))
        return self._parse_secret(response)

    def update_secret(
        self,
        name: str,
        *,
        value: str | Unset = UNSET,
        description: str | Unset = UNSET,
        env_name: str | Unset = UNSET,
        file_path: str | Unset = UNSET,
        if_version: int | None = None,
        user: str = "me",
    ) -> Secret:
        """Change the given fields of a secret and return its new metadata.

        A field left UNSET keeps its value and "" clears it. With `if_version`, the
        server applies the change only if the secret is still at that version, and
        raises PreconditionFailed otherwise. The given fields are checked before
        sending, as in create_secret.
        """
        fields = {
            "value": value,
            "description": description,
            "env_name": env_name,
            "file_path": file_path,
        }
        body = {key: field for key, field in fields.items() if not isinstance(field, Unset)}
        if not body:
            raise ValidationError(
                400,
                "No fields to update.",
                "Pass at least one of value, description, env_name or file_path.",
            )
        _raise_for_violations(validate_secret_changes(body))
        response = self._request(
            "PATCH",
            path("users", user, "secrets", name),
            json=body,
            headers=_if_match(if_version),
        )
        return self._parse_secret(response)

    def delete_secret(self, name: str, *, if_version: int | None = None, user: str = "me") -> None:
        """Delete a secret; with `if_version`, only if it is still at that version."""
        self._request("DELETE", path("users", user, "secrets", name), headers=_if_match(if_version))

    # Audit log

    def list_audit_logs(
        self,
        *,
        actor: str | None = None,
        resource_type: str | None = None,
        action: str | None = None,
        target_user: str | None = None,
        since: dt.datetime | str | None = None,
        until: dt.datetime | str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> AuditLogPage:
        """Return one page of audit rows, newest first, selected by the given filters.

        `actor` and `target_user` (the owner of the changed resource) take "me", a
        username or a user id. `since` is inclusive and `until` exclusive; each is an
        aware datetime or an RFC 3339 string. `limit` is the page size, 1 to 1000 (the
        server's default is 100). Pass a page's `next_after` as `after` to get the next
        page. Only the owner and auditor site roles may read the audit log; others get
        Forbidden.
        """
        params: dict[str, str | int] = {}
        filters = {
            "actor": actor,
            "resource_type": resource_type,
            "action": action,
            "target_user": target_user,
            "since": _rfc3339("since", since),
            "until": _rfc3339("until", until),
            "limit": limit,
            "after": after,
        }
        for name, value in filters.items():
            if value is not None:
                params[name] = value
        response = self._request("GET", path("audit-logs"), params=params)
        return self._parse(response, AuditLogPage.from_json)

    # Plumbing for endpoint methods

    def _request(
        self,
        method: str,
        url_path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request to `url_path` under the base URL and return the 2xx response.

        Raise the APIError subclass for the status of an error response, and
        ConnectionFailed when the request failed in transport.
        """
        try:
            response = self._http.request(
                method, url_path, json=json, params=params, headers=headers
            )
        except httpx.TransportError as error:
            # The class name says what failed (ConnectError, ReadTimeout, ...). The
            # request itself stays out of the message because its body may hold a value.
            raise ConnectionFailed(
                f"{method} {self.base_url}{url_path} failed: {type(error).__name__}"
            ) from None
        if response.is_error:
            raise _error_from_response(response)
        return response

    def _parse(self, response: httpx.Response, parse: Callable[[Any], T]) -> T:
        """Apply `parse` to the JSON body, raising APIError when the body does not fit."""
        try:
            return parse(response.json())
        except (ValueError, KeyError, TypeError) as error:
            raise APIError(
                response.status_code,
                "Invalid response from the server.",
                f"The body of {response.request.method} {response.request.url.path} "
                f"does not match the API: {type(error).__name__}: {error}",
            ) from None

    def _parse_secret(self, response: httpx.Response) -> Secret:
        version = parse_etag(response.headers.get("ETag"))
        return self._parse(response, lambda body: Secret.from_json(body, version))


def path(*segments: str) -> str:
    """Build an API path from raw segments, percent-encoding each one.

    path("users", "me", "secrets", "a/b") is "/api/v2/users/me/secrets/a%2Fb".
    """
    return API_PREFIX + "".join("/" + quote_segment(segment) for segment in segments)


def _rfc3339(parameter: str, value: dt.datetime | str | None) -> str | None:
    """Format a datetime as RFC 3339; raise ValidationError for a naive one."""
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        raise ValidationError(
            400,
            "Invalid query parameters.",
            "Pass an aware datetime, such as datetime.now(timezone.utc).",
            [FieldError(parameter, "must have a time zone")],
        )
    return value.isoformat()


def _if_match(version: int | None) -> dict[str, str]:
    return {} if version is None else {"If-Match": f'"{version}"'}


def _raise_for_violations(violations: list[Violation]) -> None:
    """Raise ValidationError for fields that break the rules the server checks too."""
    if violations:
        raise ValidationError(
            400,
            "Invalid request body.",
            "Invalid fields were found before sending, so no request was sent; see validations.",
            [FieldError(violation.field, violation.rule) for violation in violations],
        )


def _secret_list(body: Any) -> list[Secret]:
    if not isinstance(body, list):
        raise TypeError(f"expected a JSON array of secrets, got {type(body).__name__}")
    return [Secret.from_json(item) for item in body]


def _error_from_response(response: httpx.Response) -> APIError:
    """Build the typed exception for an error response, JSON error body or not."""
    status = response.status_code
    message = response.reason_phrase or "HTTP error"
    detail = ""
    validations: list[FieldError] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("message"), str) and body["message"]:
            message = body["message"]
        if isinstance(body.get("detail"), str):
            detail = body["detail"]
        for item in body.get("validations") or []:
            if isinstance(item, dict):
                validations.append(
                    FieldError(str(item.get("field", "")), str(item.get("detail", "")))
                )
    return error_class(status)(status, message, detail, validations)
