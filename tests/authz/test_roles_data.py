"""Tests for the role catalog, the expected role matrix and their loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.authz.roles import (
    MATRIX_HEADER,
    ROLES_DIR,
    Catalog,
    CatalogError,
    Cell,
    MatrixError,
    all_cells,
    default_catalog,
    default_matrix,
    load_catalog,
    load_matrix,
)

CATALOG_PATH = ROLES_DIR / "catalog.toml"
MATRIX_PATH = ROLES_DIR / "matrix.csv"
HEADER_LINE = ",".join(MATRIX_HEADER)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="module")
def matrix_lines() -> list[str]:
    return MATRIX_PATH.read_text(encoding="utf-8").splitlines()


def write_matrix(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "matrix.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def replace_field(line: str, index: int, value: str) -> str:
    fields = line.split(",")
    fields[index] = value
    return ",".join(fields)


# Catalog


def test_catalog_roles_and_scopes(catalog: Catalog) -> None:
    scopes = {role.name: role.scope for role in catalog.roles}
    assert scopes == {
        "owner": "site",
        "auditor": "site",
        "user-admin": "site",
        "member": "site",
        "org-admin": "organization",
        "org-member": "organization",
    }


def test_catalog_role_order(catalog: Catalog) -> None:
    assert catalog.role_names() == (
        "owner",
        "auditor",
        "user-admin",
        "member",
        "org-admin",
        "org-member",
    )


def test_catalog_implicit_roles(catalog: Catalog) -> None:
    implicit = {role.name for role in catalog.roles if role.implicit}
    assert implicit == {"member", "org-member"}


def test_catalog_descriptions_present(catalog: Catalog) -> None:
    for role in catalog.roles:
        assert role.description.strip(), role.name


def test_catalog_relations(catalog: Catalog) -> None:
    assert catalog.relations == ("self", "org", "other")


def test_catalog_resources(catalog: Catalog) -> None:
    assert dict(catalog.resources) == {
        "user": ("create", "read", "update", "delete", "assign_role"),
        "organization": ("create", "read", "update", "delete"),
        "organization_member": ("create", "read", "update", "delete", "assign_role"),
        "api_key": ("create", "read", "update", "delete"),
        "user_secret": ("create", "read", "update", "delete"),
        "audit_log": ("read",),
    }
    assert list(catalog.resources) == [
        "user",
        "organization",
        "organization_member",
        "api_key",
        "user_secret",
        "audit_log",
    ]


def test_load_catalog_invalid_scope(tmp_path: Path) -> None:
    text = CATALOG_PATH.read_text(encoding="utf-8")
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace('scope = "organization"', 'scope = "team"', 1), encoding="utf-8")
    with pytest.raises(CatalogError, match="role 'org-admin': invalid scope 'team'"):
        load_catalog(path)


def test_load_catalog_duplicate_role(tmp_path: Path) -> None:
    text = CATALOG_PATH.read_text(encoding="utf-8")
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace('name = "auditor"', 'name = "owner"'), encoding="utf-8")
    with pytest.raises(CatalogError, match="role 'owner' is defined twice"):
        load_catalog(path)


def test_load_catalog_unknown_key(tmp_path: Path) -> None:
    text = CATALOG_PATH.read_text(encoding="utf-8")
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace("implicit = true", "implcit = true", 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"number 4: unknown keys: implcit"):
        load_catalog(path)


def test_load_catalog_missing_key(tmp_path: Path) -> None:
    text = CATALOG_PATH.read_text(encoding="utf-8")
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace("implicit = true\n", "", 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"number 4: missing keys: implicit"):
        load_catalog(path)


# Shipped matrix


def test_matrix_complete(catalog: Catalog) -> None:
    matrix = default_matrix()
    assert len(all_cells(catalog)) == 414
    assert len(matrix) == 414
    assert set(matrix) == set(all_cells(catalog))


def test_matrix_row_order(catalog: Catalog) -> None:
    assert list(default_matrix()) == all_cells(catalog)


def test_matrix_allow_counts() -> None:
    matrix = default_matrix()
    counts: dict[str, int] = {}
    for cell, allowed in matrix.items():
        counts[cell.role] = counts.get(cell.role, 0) + int(allowed)
    assert counts == {
        "owner": 52,
        "auditor": 12,
        "user-admin": 18,
        "member": 9,
        "org-admin": 7,
        "org-member": 2,
    }


def test_matrix_user_secret_member_self_only() -> None:
    allowed = {
        cell
        for cell, decision in default_matrix().items()
        if cell.resource == "user_secret" and decision
    }
    assert {(cell.role, cell.relation) for cell in allowed} == {("member", "self")}
    assert {cell.action for cell in allowed} == {"create", "read", "update", "delete"}


def test_matrix_org_roles_only_org_relation() -> None:
    for cell, allowed in default_matrix().items():
        if cell.role in ("org-admin", "org-member") and allowed:
            assert cell.relation == "org", str(cell)


# Spot checks of single cells, written from the access rules rather than the file.
SPOT_CHECKS = [
    ("owner", "other", "user_secret", "read", False),
    ("owner", "self", "user_secret", "read", False),
    ("owner", "self", "api_key", "create", True),
    ("owner", "other", "api_key", "create", False),
    ("owner", "org", "api_key", "create", False),
    ("owner", "other", "api_key", "read", True),
    ("owner", "other", "api_key", "delete", True),
    ("owner", "self", "api_key", "update", False),
    ("owner", "other", "user", "assign_role", True),
    ("owner", "other", "organization_member", "assign_role", True),
    ("owner", "other", "audit_log", "read", True),
    ("auditor", "other", "audit_log", "read", True),
    ("auditor", "other", "user", "update", False),
    ("auditor", "self", "api_key", "read", False),
    ("auditor", "self", "user_secret", "read", False),
    ("user-admin", "other", "user", "delete", True),
    ("user-admin", "other", "user", "assign_role", False),
    ("user-admin", "other", "organization", "read", True),
    ("user-admin", "other", "organization", "update", False),
    ("user-admin", "other", "audit_log", "read", False),
    ("member", "self", "user_secret", "delete", True),
    ("member", "org", "user_secret", "read", False),
    ("member", "other", "user_secret", "read", False),
    ("member", "self", "user", "update", True),
    ("member", "self", "user", "delete", False),
    ("member", "self", "api_key", "update", False),
    ("member", "self", "audit_log", "read", False),
    ("org-admin", "org", "user_secret", "read", False),
    ("org-admin", "org", "organization_member", "assign_role", True),
    ("org-admin", "org", "organization", "delete", False),
    ("org-admin", "other", "organization", "read", False),
    ("org-member", "org", "organization", "read", True),
    ("org-member", "org", "organization_member", "update", False),
    ("org-member", "self", "organization", "read", False),
]


@pytest.mark.parametrize(
    ("role", "relation", "resource", "action", "expected"),
    SPOT_CHECKS,
    ids=[f"{r}-{rel}-{res}-{a}" for r, rel, res, a, _ in SPOT_CHECKS],
)
def test_matrix_spot_check(
    role: str, relation: str, resource: str, action: str, expected: bool
) -> None:
    cell = Cell(role=role, relation=relation, resource=resource, action=action)
    assert default_matrix()[cell] is expected


# Rejected matrix files


def test_load_matrix_valid_copy(tmp_path: Path, catalog: Catalog, matrix_lines: list[str]) -> None:
    path = write_matrix(tmp_path, matrix_lines)
    assert load_matrix(path, catalog) == default_matrix()


def test_load_matrix_wrong_header(
    tmp_path: Path, catalog: Catalog, matrix_lines: list[str]
) -> None:
    lines = ["role,relation,resource,action,effect", *matrix_lines[1:]]
    path = write_matrix(tmp_path, lines)
    with pytest.raises(MatrixError, match="invalid header") as raised:
        load_matrix(path, catalog)
    assert raised.value.line == 1
    assert HEADER_LINE in str(raised.value)


def test_load_matrix_empty_file(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "matrix.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(MatrixError, match="file is empty") as raised:
        load_matrix(path, catalog)
    assert raised.value.line == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (0, "superuser", "unknown role 'superuser'"),
        (1, "team", "unknown relation 'team'"),
        (2, "invoice", "unknown resource 'invoice'"),
        (3, "approve", "unknown action 'approve' for resource 'user'"),
        (4, "maybe", "invalid decision 'maybe', expected allow or deny"),
        (4, "Allow", "invalid decision 'Allow'"),
    ],
    ids=["role", "relation", "resource", "action", "decision", "decision-case"],
)
def test_load_matrix_invalid_field(
    tmp_path: Path,
    catalog: Catalog,
    matrix_lines: list[str],
    field: int,
    value: str,
    message: str,
) -> None:
    lines = list(matrix_lines)
    lines[5] = replace_field(lines[5], field, value)
    path = write_matrix(tmp_path, lines)
    with pytest.raises(MatrixError, match=message) as raised:
        load_matrix(path, catalog)
    assert raised.value.line == 6
    assert f"{path}:6:" in str(raised.value)


def test_load_matrix_action_wrong_resource(
    tmp_path: Path, catalog: Catalog, matrix_lines: list[str]
) -> None:
    index = matrix_lines.index("member,self,api_key,create,allow")
    lines = list(matrix_lines)
    lines[index] = "member,self,api_key,assign_role,allow"
    path = write_matrix(tmp_path, lines)
    message = "action 'assign_role' is not valid for resource 'api_key'"
    with pytest.raises(MatrixError, match=message) as raised:
        load_matrix(path, catalog)
    assert raised.value.line == index + 1


def test_load_matrix_wrong_field_count(
    tmp_path: Path, catalog: Catalog, matrix_lines: list[str]
) -> None:
    lines = list(matrix_lines)
    lines[3] = lines[3] + ",extra"
    path = write_matrix(tmp_path, lines)
    with pytest.raises(MatrixError, match="expected 5 fields, found 6") as raised:
        load_matrix(path, catalog)
    assert raised.value.line == 4


def test_load_matrix_blank_line(tmp_path: Path, catalog: Catalog, matrix_lines: list[str]) -> None:
    lines = [*matrix_lines[:10], "", *matrix_lines[10:]]
    path = write_matrix(tmp_path, lines)
    with pytest.raises(MatrixError, match="expected 5 fields, found 0") as raised:
        load_matrix(path, catalog)
    assert raised.value.line == 11


def test_load_matrix_duplicate_cell(
    tmp_path: Path, catalog: Catalog, matrix_lines: list[str]
) -> None:
    duplicate = replace_field(matrix_lines[2], 4, "deny")
    lines = [*matrix_lines, duplicate]
    path = write_matrix(tmp_path, lines)
    with pytest.raises(MatrixError, match="duplicate cell") as raised:
        load_matrix(path, catalog)
    assert raised.value.line == len(lines)
    assert "first defined on line 3" in str(raised.value)


def test_load_matrix_missing_cells(
    tmp_path: Path, catalog: Catalog, matrix_lines: list[str]
) -> None:
    lines = [line for line in matrix_lines if not line.startswith("org-member,")]
    path = write_matrix(tmp_path, lines)
    with pytest.raises(MatrixError, match="missing 69 of 414 cells") as raised:
        load_matrix(path, catalog)
    message = str(raised.value)
    assert raised.value.line is None
    assert "org-member,self,user,create" in message
    assert "and 64 more" in message


def test_load_matrix_one_missing_cell(
    tmp_path: Path, catalog: Catalog, matrix_lines: list[str]
) -> None:
    lines = [line for line in matrix_lines if not line.startswith("member,other,user,read,")]
    path = write_matrix(tmp_path, lines)
    with pytest.raises(MatrixError, match="missing 1 of 414 cells") as raised:
        load_matrix(path, catalog)
    assert "member,other,user,read" in str(raised.value)
    assert "more" not in str(raised.value)
