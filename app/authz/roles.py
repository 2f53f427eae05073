"""Load the role catalog and the expected role matrix from roles/.

roles/catalog.toml names the roles, relations, resources and actions.
roles/matrix.csv gives the expected allow/deny decision for every
(role, relation, resource, action) cell. The matrix is written by hand from
the access rules and serves as the test oracle for the Casbin policy, so the
loaders here reject any file that is incomplete or ambiguous.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
CATALOG_FILE = "catalog.toml"
MATRIX_FILE = "matrix.csv"

SCOPES = ("site", "organization")
MATRIX_HEADER = ("role", "relation", "resource", "action", "decision")
DECISIONS = {"allow": True, "deny": False}

# Number of missing cells listed in the MatrixError message.
MAX_LISTED_MISSING_CELLS = 5

_ROLE_KEYS = frozenset({"name", "scope", "implicit", "description"})
_CATALOG_KEYS = frozenset({"relations", "resources", "role"})


@dataclass(frozen=True)
class Role:
    """Role from the catalog, with the scope it applies to."""

    name: str
    scope: str
    implicit: bool
    description: str


@dataclass(frozen=True)
class Catalog:
    """Roles, relations and per-resource actions, in file order."""

    roles: tuple[Role, ...]
    relations: tuple[str, ...]
    resources: Mapping[str, tuple[str, ...]]

    def role_names(self) -> tuple[str, ...]:
        """Return the role names in catalog order."""
        return tuple(role.name for role in self.roles)


@dataclass(frozen=True)
class Cell:
    """One (role, relation, resource, action) combination of the matrix."""

    role: str
    relation: str
    resource: str
    action: str

    def __str__(self) -> str:
        return f"{self.role},{self.relation},{self.resource},{self.action}"


class CatalogError(ValueError):
    """Error raised for an invalid role catalog file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class MatrixError(ValueError):
    """Error raised for an invalid role matrix file.

    `line` is the 1-based line number in the CSV file, or None when the
    problem is not tied to one line (missing cells).
    """

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        location = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{location}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def load_catalog(path: Path) -> Catalog:
    """Parse and validate the role catalog at `path`.

    Raises CatalogError for a TOML syntax error, an unknown or missing key,
    a value of the wrong type, an unknown scope, or a duplicate name.
    """
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(path, f"invalid TOML: {error}") from error

    unknown_keys = sorted(set(data) - _CATALOG_KEYS)
    if unknown_keys:
        raise CatalogError(path, f"unknown top-level keys: {', '.join(unknown_keys)}")

    relations = _parse_names(path, data.get("relations"), "relations")
    resources = _parse_resources(path, data.get("resources"))
    roles = _parse_roles(path, data.get("role"))
    return Catalog(roles=roles, relations=relations, resources=resources)


def _parse_names(path: Path, value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise CatalogError(path, f"{where} must be a non-empty array of strings")

    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item:
            raise CatalogError(path, f"{where} contains {item!r}, expected a non-empty string")
        if item in names:
            raise CatalogError(path, f"{where} lists {item!r} twice")
        names.append(item)
    return tuple(names)


def _parse_resources(path: Path, value: Any) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise CatalogError(path, "[resources] must be a non-empty table of action arrays")

    resources: dict[str, tuple[str, ...]] = {}
    for resource, actions in value.items():
        resources[resource] = _parse_names(path, actions, f"resources.{resource}")
    return MappingProxyType(resources)


def _parse_roles(path: Path, value: Any) -> tuple[Role, ...]:
    if not isinstance(value, list) or not value:
        raise CatalogError(path, "at least one [[role]] table is required")

    roles: list[Role] = []
    for index, table in enumerate(value, start=1):
        role = _parse_role(path, table, index)
        if any(existing.name == role.name for existing in roles):
            raise CatalogError(path, f"role {role.name!r} is defined twice")
        roles.append(role)
    return tuple(roles)


def _parse_role(path: Path, table: Any, index: int) -> Role:
    where = f"[[role]] number {index}"
    if not isinstance(table, dict):
        raise CatalogError(path, f"{where} must be a table")

    keys = set(table)
    unknown = sorted(keys - _ROLE_KEYS)
    if unknown:
        raise CatalogError(path, f"{where}: unknown keys: {', '.join(unknown)}")
    missing = sorted(_ROLE_KEYS - keys)
    if missing:
        raise CatalogError(path, f"{where}: missing keys: {', '.join(missing)}")

    name = table["name"]
    scope = table["scope"]
    implicit = table["implicit"]
    description = table["description"]
    if not isinstance(name, str) or not name:
        raise CatalogError(path, f"{where}: name must be a non-empty string")
    if scope not in SCOPES:
        raise CatalogError(
            path, f"role {name!r}: invalid scope {scope!r}, expected one of {', '.join(SCOPES)}"
        )
    if not isinstance(implicit, bool):
        raise CatalogError(path, f"role {name!r}: implicit must be true or false")
    if not isinstance(description, str) or not description.strip():
        raise CatalogError(path, f"role {name!r}: description must be a non-empty string")
    return Role(name=name, scope=scope, implicit=implicit, description=description)


def all_cells(catalog: Catalog) -> list[Cell]:
    """Return every cell of the matrix, ordered by role, resource, action, relation.

    Each level follows catalog order, which is also the row order of matrix.csv.
    """
    return [
        Cell(role=role.name, relation=relation, resource=resource, action=action)
        for role in catalog.roles
        for resource, actions in catalog.resources.items()
        for action in actions
        for relation in catalog.relations
    ]


def load_matrix(path: Path, catalog: Catalog) -> dict[Cell, bool]:
    """Parse the matrix at `path` into a map from cell to decision (True is allow).

    Every cell of `catalog` must appear exactly once. Raises MatrixError naming
    the line for a wrong header, a row without exactly five fields, an unknown
    role, relation, resource or action, an action that the resource does not
    have, a decision other than allow or deny, or a duplicate cell. A missing
    cell raises MatrixError listing the first few missing cells. The returned
    dict keeps the file's row order.
    """
    decisions: dict[Cell, bool] = {}
    first_line: dict[Cell, int] = {}

    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None:
            raise MatrixError(path, 1, f"file is empty, expected header {','.join(MATRIX_HEADER)}")
        if tuple(header) != MATRIX_HEADER:
            raise MatrixError(
                path,
                reader.line_num,
                f"invalid header {','.join(header)!r}, expected {','.join(MATRIX_HEADER)!r}",
            )

        for row in reader:
            line = reader.line_num
            cell, allowed = _parse_row(path, line, row, catalog)
            if cell in first_line:
                raise MatrixError(
                    path, line, f"duplicate cell {cell}, first defined on line {first_line[cell]}"
                )
            first_line[cell] = line
            decisions[cell] = allowed

    expected = all_cells(catalog)
    missing = [cell for cell in expected if cell not in decisions]
    if missing:
        listed = "; ".join(str(cell) for cell in missing[:MAX_LISTED_MISSING_CELLS])
        more = len(missing) - MAX_LISTED_MISSING_CELLS
        suffix = f"; and {more} more" if more > 0 else ""
        raise MatrixError(
            path,
            None,
            f"missing {len(missing)} of {len(expected)} cells"
            f" (role,relation,resource,action): {listed}{suffix}",
        )
    return decisions


def _parse_row(path: Path, line: int, row: list[str], catalog: Catalog) -> tuple[Cell, bool]:
    if len(row) != len(MATRIX_HEADER):
        raise MatrixError(
            path, line, f"expected {len(MATRIX_HEADER)} fields, found {len(row)}: {row!r}"
        )

    role, relation, resource, action, decision = row
    if role not in catalog.role_names():
        raise MatrixError(
            path, line, f"unknown role {role!r}, expected one of {', '.join(catalog.role_names())}"
        )
    if relation not in catalog.relations:
        raise MatrixError(
            path,
            line,
            f"unknown relation {relation!r}, expected one of {', '.join(catalog.relations)}",
        )
    if resource not in catalog.resources:
        raise MatrixError(
            path,
            line,
            f"unknown resource {resource!r}, expected one of {', '.join(catalog.resources)}",
        )

    valid_actions = catalog.resources[resource]
    if action not in valid_actions:
        if any(action in actions for actions in catalog.resources.values()):
            problem = f"action {action!r} is not valid for resource {resource!r}"
        else:
            problem = f"unknown action {action!r} for resource {resource!r}"
        raise MatrixError(path, line, f"{problem}, expected one of {', '.join(valid_actions)}")
    if decision not in DECISIONS:
        raise MatrixError(path, line, f"invalid decision {decision!r}, expected allow or deny")

    cell = Cell(role=role, relation=relation, resource=resource, action=action)
    return cell, DECISIONS[decision]


def default_catalog() -> Catalog:
    """Load the catalog shipped in roles/catalog.toml."""
    return load_catalog(ROLES_DIR / CATALOG_FILE)


def default_matrix() -> dict[Cell, bool]:
    """Load the matrix shipped in roles/matrix.csv, checked against the shipped catalog."""
    return load_matrix(ROLES_DIR / MATRIX_FILE, default_catalog())
