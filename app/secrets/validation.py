"""Rules for user-secret fields, shared by the API, client-side checks and imports.

The validators return every failing field at once, as a list of Violation(field, rule).
A rule states the constraint that failed and never contains the submitted value.

Fields and their rules:

- name: required, 1-64 characters, no leading or trailing whitespace, none of '/', '?'
  or '#', no control characters, and not '.' or '..'. Names travel as one URL path
  segment, where those characters would split or end the path, and HTTP clients
  collapse '.' and '..' segments.
- value: required on create, 1 to 65536 bytes in UTF-8, no NUL character. An empty
  value is rejected on create and on update alike: a secret always has a value, and a
  secret that is no longer needed is deleted instead.
- description: at most 1000 characters, no NUL character. Empty clears it.
- env_name: empty (not injected as a variable) or a POSIX name `[A-Za-z_][A-Za-z0-9_]*`
  of at most 256 bytes. Names that change how shells, the dynamic loader, Git, the
  locale or this service behave are reserved, compared case-insensitively.
- file_path: empty (not injected as a file) or a path that starts with '~/' or '/', of
  at most 4096 bytes in UTF-8, without NUL. It has no '.', '..' or empty ('//') segment
  and no trailing '/'. Each file therefore has one spelling,
  so the per-user unique index on file_path keeps two secrets out of one file.

Every field must be a JSON string: a number, boolean, array, object or null is reported
on its field. Strings must also be encodable as UTF-8, which rules out unpaired
surrogates that a JSON `\\ud800` escape can produce.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import NamedTuple


class Violation(NamedTuple):
    """A field and the rule its submitted value breaks."""

    field: str
    rule: str


NAME_MAX_LENGTH = 64
DESCRIPTION_MAX_LENGTH = 1000
VALUE_MAX_BYTES = 64 * 1024
ENV_NAME_MAX_BYTES = 256
FILE_PATH_MAX_BYTES = 4096

# Fields of a new secret, and the subset that an update may change: the name is the
# secret's address in URLs and is never changed in place.
SECRET_FIELDS = ("name", "value", "description", "env_name", "file_path")
REQUIRED_FIELDS = ("name", "value")
CHANGEABLE_FIELDS = ("value", "description", "env_name", "file_path")

_NAME_FORBIDDEN_CHARACTERS = frozenset("/?#")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Variables a shell, the dynamic loader or common tools read to decide how to run,
# compared in upper case. Injecting a secret under one of these names would change the
# behaviour of the process it is meant for.
RESERVED_ENV_NAMES = frozenset(
    {
        "_",
        "BASH_ENV",
        "BASHOPTS",
        "CDPATH",
        "ENV",
        "GLOBIGNORE",
        "HOME",
        "HOSTNAME",
        "IFS",
        "LANG",
        "LANGUAGE",
        "LD_PRELOAD",
        "LOGNAME",
        "MAIL",
        "MAILPATH",
        "OLDPWD",
        "PATH",
        "PROMPT_COMMAND",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        "PWD",
        "SHELL",
        "SHELLOPTS",
        "SHLVL",
        "TERM",
        "TMPDIR",
        "TZ",
        "USER",
    }
)
# USERSECRETS_ variables configure this service. LD_ and DYLD_ variables configure the
# dynamic loaders of Linux and macOS, GIT_ variables configure Git, and LC_ variables set
# the locale.
RESERVED_ENV_NAME_PREFIXES = ("USERSECRETS_", "LD_", "DYLD_", "GIT_", "LC_")

RULE_NOT_STRING = "must be a string"
RULE_REQUIRED = "is required"
RULE_NOT_UNICODE = "must be valid Unicode text without unpaired surrogates"
RULE_NO_NUL = "must not contain NUL characters"


def is_valid_name(name: str) -> bool:
    """Tell whether `name` may name a secret, before it reaches a query as a lookup key.

    A name from a URL path that breaks a rule cannot match any stored secret, and
    PostgreSQL rejects NUL characters in query parameters, so lookups check first.
    """
    return check_field("name", name) is None


def check_field(field: str, value: object) -> str | None:
    """Return the rule that `value` breaks as the given field, or None when it is valid.

    Raises KeyError for a field outside SECRET_FIELDS.
    """
    return _FIELD_CHECKS[field](value)


def validate_new_secret(fields: Mapping[str, object]) -> list[Violation]:
    """Check the fields of a secret to create and return every violation, in field order.

    `name` and `value` are required, the other fields optional. Keys outside
    SECRET_FIELDS are reported as unknown.
    """
    violations: list[Violation] = []
    for field in SECRET_FIELDS:
        if field not in fields:
            if field in REQUIRED_FIELDS:
                violations.append(Violation(field, RULE_REQUIRED))
            continue
        rule = check_field(field, fields[field])
        if rule is not None:
            violations.append(Violation(field, rule))
    violations.extend(_unknown_fields(fields, SECRET_FIELDS))
    return violations


def validate_secret_changes(changes: Mapping[str, object]) -> list[Violation]:
    """Check the fields of a partial update and return every violation, in field order.

    Only the fields in CHANGEABLE_FIELDS may appear, and each one that appears is
    checked by the same rule as on create. An empty mapping has no violations: whether
    an update must change something is the caller's decision.
    """
    violations: list[Violation] = []
    for field in CHANGEABLE_FIELDS:
        if field not in changes:
            continue
        rule = check_field(field, changes[field])
        if rule is not None:
            violations.append(Violation(field, rule))
    for violation in _unknown_fields(changes, CHANGEABLE_FIELDS):
        if violation.field == "name":
            violations.append(Violation("name", "cannot be changed; create a new secret"))
        else:
            violations.append(violation)
    return violations


def _unknown_fields(fields: Mapping[str, object], known: tuple[str, ...]) -> list[Violation]:
    return [Violation(field, "unknown field") for field in fields if field not in known]


def _string_field(check: Callable[[str], str | None]) -> Callable[[object], str | None]:
    """Wrap a check of a string field so it first requires a string that UTF-8 can encode."""

    def check_value(value: object) -> str | None:
        if not isinstance(value, str):
            return RULE_NOT_STRING
        if not _encodes_as_utf8(value):
            return RULE_NOT_UNICODE
        return check(value)

    return check_value


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def _has_control_character(text: str) -> bool:
    # Category Cc covers C0 (including NUL, tab and newline), DEL and C1.
    return any(unicodedata.category(character) == "Cc" for character in text)


def _check_name(value: str) -> str | None:
    if not 1 <= len(value) <= NAME_MAX_LENGTH:
        return f"must be 1-{NAME_MAX_LENGTH} characters"
    if value != value.strip():
        return "must not start or end with whitespace"
    if _NAME_FORBIDDEN_CHARACTERS.intersection(value):
        return "must not contain '/', '?' or '#'"
    if _has_control_character(value):
        return "must not contain control characters"
    if value in (".", ".."):
        return "must not be '.' or '..'"
    return None


def _check_value(value: str) -> str | None:
    if not value:
        return "must not be empty; delete the secret to remove it"
    if _utf8_length(value) > VALUE_MAX_BYTES:
        return f"must be at most {VALUE_MAX_BYTES} bytes in UTF-8"
    if "\0" in value:
        return RULE_NO_NUL
    return None


def _check_description(value: str) -> str | None:
    if len(value) > DESCRIPTION_MAX_LENGTH:
        return f"must be at most {DESCRIPTION_MAX_LENGTH} characters"
    if "\0" in value:
        return RULE_NO_NUL
    return None


def _check_env_name(value: str) -> str | None:
    if value == "":
        return None
    if _ENV_NAME_RE.fullmatch(value) is None:
        return "must be empty or a POSIX name: a letter or '_', then letters, digits or '_'"
    if len(value) > ENV_NAME_MAX_BYTES:
        # ASCII only after the pattern check, so characters and bytes are the same count.
        return f"must be at most {ENV_NAME_MAX_BYTES} bytes"
    upper = value.upper()
    if upper in RESERVED_ENV_NAMES:
        return "is a reserved variable name that shells or loaders read; choose another"
    if upper.startswith(RESERVED_ENV_NAME_PREFIXES):
        prefixes = ", ".join(RESERVED_ENV_NAME_PREFIXES)
        return f"must not start with a reserved prefix ({prefixes})"
    return None


def _check_file_path(value: str) -> str | None:
    if value == "":
        return None
    if not value.startswith(("~/", "/")):
        return "must be empty or start with '~/' or '/'"
    if _utf8_length(value) > FILE_PATH_MAX_BYTES:
        return f"must be at most {FILE_PATH_MAX_BYTES} bytes in UTF-8"
    if "\0" in value:
        return RULE_NO_NUL
    if value.endswith("/"):
        return "must not end with '/'"
    segments = value.split("/")[1:]
    if ".." in segments:
        return "must not contain a '..' segment"
    if "." in segments:
        return "must not contain a '.' segment"
    if "" in segments:
        return "must not contain an empty segment ('//')"
    return None


_FIELD_CHECKS: dict[str, Callable[[object], str | None]] = {
    "name": _string_field(_check_name),
    "value": _string_field(_check_value),
    "description": _string_field(_check_description),
    "env_name": _string_field(_check_env_name),
    "file_path": _string_field(_check_file_path),
}
