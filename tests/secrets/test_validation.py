"""The field rules of user secrets: one rejected example per rule, and no value in a rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.secrets.validation import (
    SECRET_FIELDS,
    VALUE_MAX_BYTES,
    Violation,
    check_field,
    is_valid_name,
    validate_new_secret,
    validate_secret_changes,
)

# Part of every invalid string below where the rule allows it, so a rule that echoes
# the submitted value is caught.
MARKER = "Zq7"

INVALID = [
    # name
    pytest.param("name", 7, "must be a string", id="name-number"),
    pytest.param("name", None, "must be a string", id="name-null"),
    pytest.param("name", "", "must be 1-64 characters", id="name-empty"),
    pytest.param("name", MARKER * 21 + "xx", "must be 1-64 characters", id="name-65-characters"),
    pytest.param("name", f" {MARKER}", "whitespace", id="name-leading-space"),
    pytest.param("name", f"{MARKER}\t", "whitespace", id="name-trailing-tab"),
    pytest.param("name", f"{MARKER}/x", "'/', '?' or '#'", id="name-slash"),
    pytest.param("name", f"{MARKER}?x", "'/', '?' or '#'", id="name-question-mark"),
    pytest.param("name", f"{MARKER}#x", "'/', '?' or '#'", id="name-hash"),
    pytest.param("name", f"{MARKER}\0x", "control characters", id="name-nul"),
    pytest.param("name", f"{MARKER}\x1bx", "control characters", id="name-escape"),
    pytest.param("name", f"{MARKER}\x7fx", "control characters", id="name-delete"),
    pytest.param("name", f"{MARKER}\x85x", "control characters", id="name-c1-next-line"),
    pytest.param("name", ".", "'.' or '..'", id="name-dot"),
    pytest.param("name", "..", "'.' or '..'", id="name-dot-dot"),
    pytest.param("name", f"{MARKER}\ud800", "Unicode", id="name-lone-surrogate"),
    # value
    pytest.param("value", 42, "must be a string", id="value-number"),
    pytest.param("value", "", "must not be empty", id="value-empty"),
    pytest.param("value", MARKER + "é" * 32767, "65536 bytes", id="value-65537-bytes"),
    pytest.param("value", f"{MARKER}\0", "NUL", id="value-nul"),
    pytest.param("value", f"{MARKER}\udfff", "Unicode", id="value-lone-surrogate"),
    # description
    pytest.param("description", ["x"], "must be a string", id="description-array"),
    pytest.param("description", MARKER + "d" * 998, "1000 characters", id="description-1001"),
    pytest.param("description", f"{MARKER}\0", "NUL", id="description-nul"),
    # env_name
    pytest.param("env_name", None, "must be a string", id="env-null"),
    pytest.param("env_name", f"1{MARKER}", "POSIX name", id="env-leading-digit"),
    pytest.param("env_name", f"{MARKER}-X", "POSIX name", id="env-dash"),
    pytest.param("env_name", f"{MARKER}É", "POSIX name", id="env-non-ascii"),
    pytest.param("env_name", f"{MARKER}\n", "POSIX name", id="env-trailing-newline"),
    pytest.param("env_name", "A" + MARKER * 85 + "B", "256 bytes", id="env-257-bytes"),
    pytest.param("env_name", "PATH", "reserved variable name", id="env-path"),
    pytest.param("env_name", "path", "reserved variable name", id="env-path-lower"),
    pytest.param("env_name", "LD_PRELOAD", "reserved", id="env-ld-preload"),
    pytest.param("env_name", f"USERSECRETS_{MARKER}", "reserved prefix", id="env-service"),
    pytest.param("env_name", f"ld_{MARKER}", "reserved prefix", id="env-ld-lower"),
    pytest.param("env_name", f"DYLD_{MARKER}", "reserved prefix", id="env-dyld"),
    pytest.param("env_name", f"GIT_{MARKER}", "reserved prefix", id="env-git"),
    pytest.param("env_name", f"LC_{MARKER}", "reserved prefix", id="env-locale"),
    # file_path
    pytest.param("file_path", 0, "must be a string", id="path-number"),
    pytest.param("file_path", f"{MARKER}/x", "start with '~/' or '/'", id="path-relative"),
    pytest.param("file_path", f"~{MARKER}/x", "start with '~/' or '/'", id="path-other-home"),
    pytest.param("file_path", "/" + MARKER * 1365 + "x", "4096 bytes", id="path-4097-bytes"),
    pytest.param("file_path", f"/{MARKER}\0", "NUL", id="path-nul"),
    pytest.param("file_path", f"/{MARKER}/../etc", "'..' segment", id="path-dot-dot"),
    pytest.param("file_path", f"~/{MARKER}/..", "'..' segment", id="path-ending-dot-dot"),
    pytest.param("file_path", f"/{MARKER}/", "end with '/'", id="path-trailing-slash"),
    pytest.param("file_path", f"~/./{MARKER}", "'.' segment", id="path-dot-segment"),
    pytest.param("file_path", f"/{MARKER}/.", "'.' segment", id="path-ending-dot"),
    pytest.param("file_path", f"/{MARKER}//x", "empty segment", id="path-double-slash"),
    pytest.param("file_path", f"~//{MARKER}", "empty segment", id="path-home-double-slash"),
    pytest.param("file_path", "/", "end with '/'", id="path-root"),
    pytest.param("file_path", f"/{MARKER}\udc80", "Unicode", id="path-lone-surrogate"),
]


@pytest.mark.parametrize(("field", "value", "expected_rule"), INVALID)
def test_check_field_rejects(field: str, value: object, expected_rule: str) -> None:
    rule = check_field(field, value)

    assert rule is not None
    assert expected_rule in rule
    assert MARKER not in rule


VALID = [
    pytest.param("name", "db password", id="name-space-inside"),
    pytest.param("name", "100%", id="name-percent"),
    pytest.param("name", "ключ-🔑", id="name-non-ascii"),
    pytest.param("name", "x" * 64, id="name-64-characters"),
    pytest.param("name", "...", id="name-three-dots"),
    pytest.param("value", "é" * (VALUE_MAX_BYTES // 2), id="value-65536-bytes"),
    pytest.param("value", "line one\nline two\t", id="value-control-characters"),
    pytest.param("description", "", id="description-empty"),
    pytest.param("description", "d" * 1000, id="description-1000"),
    pytest.param("description", "two\nlines", id="description-newline"),
    pytest.param("env_name", "", id="env-empty"),
    pytest.param("env_name", "_private", id="env-underscore"),
    pytest.param("env_name", "DB_PASSWORD2", id="env-digits"),
    pytest.param("env_name", "PATHS", id="env-reserved-lookalike"),
    pytest.param("env_name", "A" * 256, id="env-256-bytes"),
    pytest.param("file_path", "", id="path-empty"),
    pytest.param("file_path", "~/.config/app/token", id="path-home"),
    pytest.param("file_path", "/run/secrets/db", id="path-absolute"),
    pytest.param("file_path", "/a/..b/.hidden", id="path-dots-in-names"),
    pytest.param("file_path", "/" + "p" * 4095, id="path-4096-bytes"),
]


@pytest.mark.parametrize(("field", "value"), VALID)
def test_check_field_accepts(field: str, value: str) -> None:
    assert check_field(field, value) is None


def test_new_secret_reports_every_field() -> None:
    violations = validate_new_secret(
        {
            "name": "a/b",
            "value": "",
            "description": 1,
            "env_name": "PATH",
            "file_path": "relative",
            "colour": "blue",
        }
    )

    assert [violation.field for violation in violations] == [
        *SECRET_FIELDS,
        "colour",
    ]


def test_new_secret_requires_name_and_value() -> None:
    violations = validate_new_secret({"description": "only this"})

    assert violations == [Violation("name", "is required"), Violation("value", "is required")]


def test_new_secret_minimal_is_valid() -> None:
    assert validate_new_secret({"name": "token", "value": "v"}) == []


def test_changes_may_clear_optional_fields() -> None:
    changes = {"description": "", "env_name": "", "file_path": ""}

    assert validate_secret_changes(changes) == []


def test_changes_reject_empty_value() -> None:
    violations = validate_secret_changes({"value": ""})

    assert [violation.field for violation in violations] == ["value"]


def test_changes_reject_name() -> None:
    violations = validate_secret_changes({"name": "renamed"})

    assert violations == [Violation("name", "cannot be changed; create a new secret")]


def test_changes_empty_has_no_violations() -> None:
    assert validate_secret_changes({}) == []


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        pytest.param("db password", True, id="valid"),
        pytest.param("nul\0", False, id="nul"),
        pytest.param("a/b", False, id="slash"),
        pytest.param("\udc80", False, id="surrogate"),
    ],
)
def test_is_valid_name(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid


@given(st.text(min_size=1))
def test_rules_never_contain_submitted_text(text: str) -> None:
    submitted = MARKER + text
    fields: dict[str, object] = {field: submitted for field in SECRET_FIELDS}

    for violation in validate_new_secret(fields) + validate_secret_changes(fields):
        assert MARKER not in violation.rule
