"""`usersecrets policy matrix`, `explain` and `diff`, run in-process."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from app.authz.policy import MODEL_FILE, POLICIES_DIR, POLICY_FILE, Policy
from app.authz.roles import MATRIX_FILE, MATRIX_HEADER, ROLES_DIR, all_cells
from tests.authz.conftest import PolicyCopy

Run = Callable[..., Result]

MEMBER_READS_SECRET = "p, member, self, user_secret, read, allow"


@pytest.fixture(scope="module")
def shipped_rows() -> list[dict[str, str]]:
    """The shipped policy's decisions as matrix rows, built from Policy, not the CLI."""
    policy = Policy.load()
    return [
        {
            "role": cell.role,
            "relation": cell.relation,
            "resource": cell.resource,
            "action": cell.action,
            "decision": "allow" if cell in policy.allowed else "deny",
        }
        for cell in all_cells(policy.catalog)
    ]


def shipped_line(text: str) -> int:
    lines = (POLICIES_DIR / POLICY_FILE).read_text(encoding="utf-8").splitlines()
    return lines.index(text) + 1


def matcher_line() -> int:
    lines = (POLICIES_DIR / MODEL_FILE).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith("m = "))


def parse_markdown_table(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]


# matrix


def test_policy_matrix_csv_equals_roles_matrix(run_policy: Run) -> None:
    result = run_policy("matrix", "--format", "csv")

    assert result.exit_code == 0
    assert result.output == (ROLES_DIR / MATRIX_FILE).read_text(encoding="utf-8")


def test_policy_matrix_csv_parses_back(run_policy: Run, shipped_rows: list[dict[str, str]]) -> None:
    output = run_policy("matrix", "--format", "csv").output

    reader = csv.DictReader(io.StringIO(output))

    assert tuple(reader.fieldnames or ()) == MATRIX_HEADER
    assert list(reader) == shipped_rows


def test_policy_matrix_json_parses_back(
    run_policy: Run, shipped_rows: list[dict[str, str]]
) -> None:
    output = run_policy("matrix", "--format", "json").output

    assert json.loads(output) == shipped_rows


def test_policy_matrix_markdown_parses_back(
    run_policy: Run, shipped_rows: list[dict[str, str]]
) -> None:
    result = run_policy("matrix")

    assert result.output.splitlines()[1] == "| --- | --- | --- | --- | --- |"
    assert parse_markdown_table(result.output) == shipped_rows


def test_policy_matrix_follows_policies_option(policy_copy: PolicyCopy, run_policy: Run) -> None:
    policy_copy.replace_line("policy.csv", MEMBER_READS_SECRET, None)

    records = json.loads(
        run_policy("matrix", "--format", "json", "--policies", policy_copy.directory).output
    )

    decisions = {
        (r["role"], r["relation"], r["resource"], r["action"]): r["decision"] for r in records
    }
    assert decisions[("member", "self", "user_secret", "read")] == "deny"
    assert decisions[("member", "self", "user_secret", "update")] == "allow"


def test_policy_matrix_invalid_model_exits_2(policy_copy: PolicyCopy, run_policy: Run) -> None:
    policy_copy.model_path.write_text("[matchers]\nm = r.role == p.role\n", encoding="utf-8")

    result = run_policy("matrix", "--policies", policy_copy.directory)

    assert result.exit_code == 2
    assert "cannot load the policy" in result.output


# explain


def test_policy_explain_allow_names_line(run_policy: Run) -> None:
    line = shipped_line(MEMBER_READS_SECRET)

    result = run_policy("explain", "member", "self", "user_secret", "read")

    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "member self user_secret read: allow"
    assert "member: allow. Granted by:" in result.output
    assert f"policy.csv:{line}: {MEMBER_READS_SECRET}\n" in result.output


def test_policy_explain_deny_without_line(run_policy: Run) -> None:
    result = run_policy("explain", "auditor", "other", "user", "update")

    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "auditor other user update: deny"
    assert "auditor: deny. No line of " in result.output
    assert "policy.csv grants it." in result.output
    assert "invariant" not in result.output


def test_policy_explain_secret_invariant(run_policy: Run) -> None:
    result = run_policy("explain", "owner", "other", "user_secret", "read")

    assert result.output.splitlines()[0] == "owner other user_secret read: deny"
    assert "owner: deny. No line of " in result.output
    assert "The matcher's invariant denies user_secret on relation other" in result.output
    assert f"model.conf:{matcher_line()}: m = r.role == p.role && r.rel" in result.output


def test_policy_explain_dead_row_listed(policy_copy: PolicyCopy, run_policy: Run) -> None:
    row = "p, org-admin, org, user_secret, read, allow"
    line = policy_copy.append("policy.csv", row)

    result = run_policy(
        "explain", "org-admin", "org", "user_secret", "read", "--policies", policy_copy.directory
    )

    assert result.output.splitlines()[0] == "org-admin org user_secret read: deny"
    assert f"policy.csv:{line}: {row}\n" in result.output
    assert "The matcher's invariant denies user_secret on relation org" in result.output


def test_policy_explain_any_role_allows(run_policy: Run) -> None:
    result = run_policy("explain", "owner,member", "self", "user_secret", "delete")

    lines = result.output.splitlines()
    assert lines[0] == "owner,member self user_secret delete: allow"
    assert "owner: deny. No line of " in result.output
    assert "member: allow. Granted by:" in result.output


def test_policy_explain_ignored_effect(policy_copy: PolicyCopy, run_policy: Run) -> None:
    row = "p, member, self, user_secret, read, Deny"
    line = policy_copy.replace_line("policy.csv", MEMBER_READS_SECRET, row)

    result = run_policy(
        "explain", "member", "self", "user_secret", "read", "--policies", policy_copy.directory
    )

    assert result.output.splitlines()[0] == "member self user_secret read: deny"
    assert f"policy.csv:{line}: {row}\n" in result.output
    assert "pycasbin ignores this line" in result.output


def test_policy_explain_org_role_never_requested(run_policy: Run) -> None:
    result = run_policy("explain", "org-member", "self", "organization", "read")

    assert result.exit_code == 0
    assert "The service never makes this request" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("root", "self", "user", "read"), "unknown role 'root'"),
        (("owner,root", "self", "user", "read"), "unknown role 'root'"),
        (("owner", "team", "user", "read"), "unknown relation 'team'"),
        (("owner", "self", "invoice", "read"), "unknown resource 'invoice'"),
        (("owner", "self", "audit_log", "delete"), "action 'delete' is not valid"),
        ((",", "self", "user", "read"), "expected at least one role name"),
    ],
    ids=["role", "role-in-list", "relation", "resource", "action", "empty-roles"],
)
def test_policy_explain_unknown_name_exits_2(
    run_policy: Run, args: tuple[str, ...], message: str
) -> None:
    result = run_policy("explain", *args)

    assert result.exit_code == 2
    assert message in result.output


# diff


def test_policy_diff_identical_exits_0(policy_copy: PolicyCopy, run_policy: Run) -> None:
    policy_copy.append("policy.csv", "# a comment changes no decision")

    result = run_policy("diff", POLICIES_DIR, policy_copy.directory)

    assert result.exit_code == 0
    assert result.output.startswith("No cell differs between ")


def test_policy_diff_grant_and_revoke(policy_copy: PolicyCopy, run_policy: Run) -> None:
    policy_copy.append("policy.csv", "p, user-admin, other, api_key, create, allow")
    policy_copy.replace_line("policy.csv", MEMBER_READS_SECRET, None)

    result = run_policy("diff", POLICIES_DIR, policy_copy.directory)

    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "granted: user-admin, other, api_key, create",
        "revoked: member, self, user_secret, read",
    ]
    assert "2 cells changed" in result.output
    assert "1 granted, 1 revoked" in result.output


def test_policy_diff_reverse_direction(policy_copy: PolicyCopy, run_policy: Run) -> None:
    policy_copy.replace_line("policy.csv", MEMBER_READS_SECRET, None)

    result = run_policy("diff", policy_copy.directory, POLICIES_DIR)

    assert result.output.splitlines()[0] == "granted: member, self, user_secret, read"


def test_policy_diff_dead_row_changes_nothing(policy_copy: PolicyCopy, run_policy: Run) -> None:
    policy_copy.append("policy.csv", "p, owner, other, user_secret, read, allow")

    result = run_policy("diff", POLICIES_DIR, policy_copy.directory)

    assert result.exit_code == 0


def test_policy_diff_help_states_exit_status(run_policy: Run) -> None:
    result = run_policy("diff", "--help")

    assert "0 when no cell differs, 1 when some cells differ" in result.output


def test_policy_diff_missing_file_exits_2(tmp_path: Path, run_policy: Run) -> None:
    result = run_policy("diff", POLICIES_DIR, tmp_path)

    assert result.exit_code == 2
    assert "policy file not found" in result.output
