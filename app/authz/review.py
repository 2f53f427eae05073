"""Review a policy: check it, print its matrix, explain one decision, diff two versions.

Every decision here comes from `Policy.load`, which evaluates the files with a
pycasbin enforcer, so the tools show what the service enforces. The policy lines that
an explanation cites come from the lint's own parse of policy.csv (`read_policy_rows`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.authz.errors import PolicyLoadError
from app.authz.lint import (
    EFFECTS,
    Finding,
    ModelDefinition,
    PolicyRow,
    has_user_secret_invariant,
    lint_policies,
    read_model,
    read_policy_rows,
)
from app.authz.policy import MODEL_FILE, POLICY_FILE, Policy
from app.authz.roles import (
    CATALOG_FILE,
    MATRIX_FILE,
    MATRIX_HEADER,
    Catalog,
    CatalogError,
    Cell,
    MatrixError,
    all_cells,
    load_catalog,
    load_matrix,
)

MATRIX_FORMATS = ("markdown", "csv", "json")


class UnknownNameError(ValueError):
    """A role, relation, resource or action that the catalog does not define."""


def decision_word(allowed: bool) -> str:
    return "allow" if allowed else "deny"


def display_path(path: Path) -> str:
    """Return `path` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def format_location(path: Path, line: int | None) -> str:
    location = display_path(path)
    return location if line is None else f"{location}:{line}"


def format_finding(finding: Finding) -> str:
    return f"{format_location(finding.path, finding.line)}: {finding.problem}"


def format_cell(cell: Cell) -> str:
    return f"{cell.role}, {cell.relation}, {cell.resource}, {cell.action}"


def rows_for_cell(rows: Sequence[PolicyRow], cell: Cell) -> list[PolicyRow]:
    """Return the `p` rows whose role, relation, resource and action equal the cell's."""
    key = (cell.role, cell.relation, cell.resource, cell.action)
    return [row for row in rows if row.key == "p" and row.fields[:4] == key]


# The effective matrix


def render_matrix(policy: Policy, output_format: str) -> str:
    """Render every cell's decision with the columns of roles/matrix.csv.

    The csv format is byte for byte the layout of roles/matrix.csv, so the two files
    can be compared with diff.
    """
    rows = [
        (
            cell.role,
            cell.relation,
            cell.resource,
            cell.action,
            decision_word(cell in policy.allowed),
        )
        for cell in all_cells(policy.catalog)
    ]
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(MATRIX_HEADER)
        writer.writerows(rows)
        return buffer.getvalue()
    if output_format == "json":
        records = [dict(zip(MATRIX_HEADER, row, strict=True)) for row in rows]
        return json.dumps(records, indent=2) + "\n"
    if output_format == "markdown":
        lines = [
            "| " + " | ".join(MATRIX_HEADER) + " |",
            "|" + " --- |" * len(MATRIX_HEADER),
            *("| " + " | ".join(row) + " |" for row in rows),
        ]
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown matrix format {output_format!r}, expected one of {MATRIX_FORMATS}")


# policy check


@dataclass(frozen=True)
class CellDifference:
    """A cell where the policy's decision differs from roles/matrix.csv."""

    cell: Cell
    expected: bool
    actual: bool
    # Rows of policy.csv that name the cell, so the output can point at them.
    rows: tuple[PolicyRow, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{format_cell(self.cell)}: expected {decision_word(self.expected)}, "
            f"policy gives {decision_word(self.actual)}"
        )
        if self.rows:
            lines = ", ".join(f"line {row.line}" for row in self.rows)
            text += f" (policy.csv {lines})"
        return text


@dataclass
class CheckResult:
    """Lint findings and matrix differences of one policies/ directory."""

    findings: list[Finding] = field(default_factory=list)
    differences: list[CellDifference] = field(default_factory=list)
    cells_compared: int = 0

    @property
    def clean(self) -> bool:
        return not self.findings and not self.differences


def check_policies(policies_dir: Path, roles_dir: Path) -> CheckResult:
    """Lint the policy files, then compare every decision with the roles/ matrix."""
    result = CheckResult()
    catalog_path = roles_dir / CATALOG_FILE
    matrix_path = roles_dir / MATRIX_FILE
    try:
        catalog = load_catalog(catalog_path)
    except (OSError, CatalogError) as error:
        result.findings.append(Finding(catalog_path, None, f"cannot load the catalog: {error}"))
        return result

    result.findings.extend(lint_policies(policies_dir, catalog))
    try:
        expected = load_matrix(matrix_path, catalog)
    except (OSError, MatrixError) as error:
        result.findings.append(Finding(matrix_path, None, f"cannot load the matrix: {error}"))
        return result
    try:
        policy = Policy.load(policies_dir, catalog)
    except PolicyLoadError as error:
        result.findings.append(Finding(policies_dir, None, str(error)))
        return result

    rows = _readable_policy_rows(policies_dir / POLICY_FILE)
    result.differences = compare_with_matrix(policy, expected, rows)
    result.cells_compared = len(expected)
    return result


def _readable_policy_rows(path: Path) -> list[PolicyRow]:
    # The lint has already reported a file it cannot read.
    try:
        return read_policy_rows(path)
    except (OSError, UnicodeDecodeError):
        return []


def compare_with_matrix(
    policy: Policy, expected: Mapping[Cell, bool], rows: Sequence[PolicyRow] = ()
) -> list[CellDifference]:
    """Return every cell of the catalog where the policy's decision differs from `expected`."""
    differences: list[CellDifference] = []
    for cell in all_cells(policy.catalog):
        actual = cell in policy.allowed
        if expected[cell] != actual:
            matching = tuple(rows_for_cell(rows, cell))
            differences.append(CellDifference(cell, expected[cell], actual, matching))
    return differences


# policy diff


@dataclass(frozen=True)
class CellChange:
    """A cell whose decision differs between two versions of the policy."""

    cell: Cell
    # True when the new version allows what the old one denied.
    granted: bool

    def __str__(self) -> str:
        return f"{'granted' if self.granted else 'revoked'}: {format_cell(self.cell)}"


def diff_policies(old: Policy, new: Policy) -> list[CellChange]:
    """Return every cell of the old policy's catalog whose decision the new policy changes."""
    return [
        CellChange(cell, granted=cell in new.allowed)
        for cell in all_cells(old.catalog)
        if (cell in old.allowed) != (cell in new.allowed)
    ]


# policy explain


@dataclass(frozen=True)
class RoleExplanation:
    """One role's decision for the request, and the policy rows that name it."""

    role: str
    allowed: bool
    rows: tuple[PolicyRow, ...]
    # An organization role on a relation other than org, which the service never requests.
    never_requested: bool


@dataclass(frozen=True)
class Explanation:
    """The decision for one request and the policy lines behind it."""

    roles: tuple[RoleExplanation, ...]
    relation: str
    resource: str
    action: str
    policy_path: Path
    model_path: Path
    matcher: ModelDefinition | None

    @property
    def allowed(self) -> bool:
        """Whether the service allows the request: any role that allows it is enough."""
        return any(role.allowed for role in self.roles)


def validate_request(
    catalog: Catalog, roles: Sequence[str], relation: str, resource: str, action: str
) -> None:
    """Raise UnknownNameError unless every name is in the catalog and the action fits."""
    for role in roles:
        if role not in catalog.role_names():
            raise UnknownNameError(
                f"unknown role {role!r}, expected one of {', '.join(catalog.role_names())}"
            )
    if relation not in catalog.relations:
        raise UnknownNameError(
            f"unknown relation {relation!r}, expected one of {', '.join(catalog.relations)}"
        )
    if resource not in catalog.resources:
        raise UnknownNameError(
            f"unknown resource {resource!r}, expected one of {', '.join(catalog.resources)}"
        )
    if action not in catalog.resources[resource]:
        raise UnknownNameError(
            f"action {action!r} is not valid for resource {resource!r}, expected one of "
            f"{', '.join(catalog.resources[resource])}"
        )


def explain(
    policy: Policy, roles: Sequence[str], relation: str, resource: str, action: str
) -> Explanation:
    """Decide the request for each role and collect the policy lines that name it.

    Raises UnknownNameError for a name the policy's catalog does not define.
    """
    validate_request(policy.catalog, roles, relation, resource, action)
    policy_path = policy.directory / POLICY_FILE
    model_path = policy.directory / MODEL_FILE
    rows = read_policy_rows(policy_path)
    scopes = {role.name: role.scope for role in policy.catalog.roles}

    explained = []
    for role in dict.fromkeys(roles):
        cell = Cell(role, relation, resource, action)
        explained.append(
            RoleExplanation(
                role=role,
                allowed=cell in policy.allowed,
                rows=tuple(rows_for_cell(rows, cell)),
                never_requested=scopes[role] == "organization" and relation != "org",
            )
        )
    return Explanation(
        roles=tuple(explained),
        relation=relation,
        resource=resource,
        action=action,
        policy_path=policy_path,
        model_path=model_path,
        matcher=read_model(model_path).definition("m"),
    )


def format_explanation(explanation: Explanation) -> list[str]:
    """Return the lines that `usersecrets policy explain` prints."""
    names = ",".join(role.role for role in explanation.roles)
    request = f"{names} {explanation.relation} {explanation.resource} {explanation.action}"
    lines = [f"{request}: {decision_word(explanation.allowed)}"]
    if len(explanation.roles) > 1:
        lines.append("The service allows a request when any of the actor's roles allows it.")

    for role in explanation.roles:
        lines.append("")
        lines.extend(_format_role(explanation, role))

    if explanation.resource == "user_secret" and explanation.relation != "self":
        lines.append("")
        lines.extend(_format_invariant(explanation))
    return lines


def _format_role(explanation: Explanation, role: RoleExplanation) -> list[str]:
    policy_file = display_path(explanation.policy_path)
    has_allow_row = any(row.fields[4:5] == ("allow",) for row in role.rows)
    head = f"{role.role}: {decision_word(role.allowed)}."
    if role.allowed and has_allow_row:
        head += " Granted by:"
    elif role.allowed:
        head += (
            f" No line of {policy_file} grants it, so the model allows it."
            " Run `usersecrets policy check`."
        )
    elif not has_allow_row:
        head += f" No line of {policy_file} grants it."
    if role.never_requested:
        head += (
            " The service never makes this request, because it pairs the organization"
            f" role {role.role} only with relation org."
        )

    lines = [head]
    if role.rows and not (role.allowed and has_allow_row):
        lines.append("Lines that name this request:")
    for row in role.rows:
        lines.append(f"  {format_location(explanation.policy_path, row.line)}: {row.text}")
        if len(row.fields) == 5 and row.fields[4] not in EFFECTS:
            lines.append("    pycasbin ignores this line: its effect is not exactly allow or deny.")
    return lines


def _format_invariant(explanation: Explanation) -> list[str]:
    matcher = explanation.matcher
    if matcher is None or not has_user_secret_invariant(matcher.value):
        return [
            "The matcher lacks the user_secret invariant, which would deny user_secret on"
            f" relation {explanation.relation} whatever the rows say."
            " Run `usersecrets policy check`."
        ]
    return [
        f"The matcher's invariant denies user_secret on relation {explanation.relation}"
        " whatever the rows say:",
        f"  {format_location(explanation.model_path, matcher.line)}: {matcher.text}",
    ]
