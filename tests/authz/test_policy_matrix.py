"""The shipped policy against the expected matrix in roles/, cell by cell."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from app.authz.policy import POLICIES_DIR, Policy, new_enforcer
from app.authz.roles import (
    CATALOG_FILE,
    ROLES_DIR,
    Cell,
    all_cells,
    default_catalog,
    default_matrix,
    load_catalog,
)
from tests.authz.conftest import PolicyCopy

EXPECTED = default_matrix()


@pytest.fixture(scope="module")
def shipped_policy() -> Policy:
    return Policy.load()


@pytest.mark.parametrize(("cell", "expected"), list(EXPECTED.items()), ids=str)
def test_policy_matches_matrix_cell(shipped_policy: Policy, cell: Cell, expected: bool) -> None:
    actual = cell in shipped_policy.allowed
    assert actual is expected, (
        f"{cell}: roles/matrix.csv expects {'allow' if expected else 'deny'}, "
        f"the policy gives {'allow' if actual else 'deny'}"
    )


def test_policy_matrix_covers_every_cell(shipped_policy: Policy) -> None:
    assert set(EXPECTED) == set(all_cells(shipped_policy.catalog))


def test_policy_check_shipped_files_clean(run_policy: Callable[..., Result]) -> None:
    result = run_policy("check")

    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    assert "all 414 cells match" in result.output


def test_policy_unknown_resource_denied(tmp_path: Path) -> None:
    text = (ROLES_DIR / CATALOG_FILE).read_text(encoding="utf-8")
    resources = '[resources]\ndeployment = ["create", "read", "update", "delete", "promote"]\n'
    catalog_path = tmp_path / CATALOG_FILE
    catalog_path.write_text(text.replace("[resources]\n", resources, 1), encoding="utf-8")
    catalog = load_catalog(catalog_path)

    policy = Policy.load(POLICIES_DIR, catalog)

    deployment_cells = [cell for cell in all_cells(catalog) if cell.resource == "deployment"]
    assert len(deployment_cells) == len(catalog.roles) * len(catalog.relations) * 5
    assert [cell for cell in deployment_cells if cell in policy.allowed] == []


def test_policy_unknown_resource_keeps_known_cells(tmp_path: Path) -> None:
    text = (ROLES_DIR / CATALOG_FILE).read_text(encoding="utf-8")
    catalog_path = tmp_path / CATALOG_FILE
    catalog_path.write_text(
        text.replace("[resources]\n", '[resources]\ndeployment = ["read"]\n', 1), encoding="utf-8"
    )

    policy = Policy.load(POLICIES_DIR, load_catalog(catalog_path))

    assert policy.allowed == Policy.load(POLICIES_DIR, default_catalog()).allowed


def test_policy_invariant_overrides_owner_row(policy_copy: PolicyCopy) -> None:
    policy_copy.append("policy.csv", "p, owner, other, user_secret, read, allow")

    enforcer = new_enforcer(policy_copy.directory)
    policy = Policy.load(policy_copy.directory)

    assert enforcer.enforce("owner", "other", "user_secret", "read") is False
    assert policy.is_allowed("owner", "other", "user_secret", "read") is False


def test_policy_check_reports_dead_owner_row(
    policy_copy: PolicyCopy, run_policy: Callable[..., Result]
) -> None:
    line = policy_copy.append("policy.csv", "p, owner, other, user_secret, read, allow")

    result = run_policy("check", "--policies", policy_copy.directory)

    assert result.exit_code == 1
    assert f"policy.csv:{line}: dead row" in result.output
    assert "relation 'other'" in result.output
