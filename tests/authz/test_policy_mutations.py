"""Deliberate mistakes in a copy of policies/: `policy check` must catch each one.

Every mutation is one plausible edit that would widen or break access. The check
must exit 1 and name the offending cell or line, both in-process and as a real
`usersecrets` process that has no database to reach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from tests.authz.conftest import PolicyCopy
from tests.support import databases
from tests.support.server import run_cli, service_env

MEMBER_DELETES_SECRET = "p, member, self, user_secret, delete, allow"
DEFAULT_DENY = "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))"


@dataclass(frozen=True)
class Mutation:
    """An edit to policy.csv or model.conf and the text `policy check` must print.

    When `old` is None, `new` is appended, and when `new` is None, `old` is deleted.
    `expected` may contain `{line}`, the number of the edited line.
    """

    name: str
    file: str
    old: str | None
    new: str | None
    expected: str

    def apply(self, copy: PolicyCopy) -> int:
        if self.old is None:
            assert self.new is not None
            return copy.append(self.file, self.new)
        return copy.replace_line(self.file, self.old, self.new)


MUTATIONS = [
    Mutation(
        "owner-reads-others-secrets",
        "policy.csv",
        None,
        "p, owner, other, user_secret, read, allow",
        "policy.csv:{line}: dead row: the matcher's invariant denies user_secret",
    ),
    Mutation(
        "org-admin-reads-org-secrets",
        "policy.csv",
        None,
        "p, org-admin, org, user_secret, read, allow",
        "policy.csv:{line}: dead row: the matcher's invariant denies user_secret",
    ),
    Mutation(
        "member-loses-secret-delete",
        "policy.csv",
        MEMBER_DELETES_SECRET,
        None,
        "member, self, user_secret, delete: expected allow, policy gives deny",
    ),
    Mutation(
        "user-admin-creates-tokens-for-others",
        "policy.csv",
        None,
        "p, user-admin, other, api_key, create, allow",
        "user-admin, other, api_key, create: expected deny, policy gives allow"
        " (policy.csv line {line})",
    ),
    Mutation(
        "member-assigns-own-role",
        "policy.csv",
        None,
        "p, member, self, user, assign_role, allow",
        "member, self, user, assign_role: expected deny, policy gives allow",
    ),
    Mutation(
        "effect-spelled-Deny",
        "policy.csv",
        MEMBER_DELETES_SECRET,
        "p, member, self, user_secret, delete, Deny",
        "policy.csv:{line}: effect 'Deny' is not exactly allow or deny",
    ),
    Mutation(
        "default-allow-effect",
        "model.conf",
        DEFAULT_DENY,
        "e = !some(where (p.eft == deny))",
        "model.conf:{line}: effect '!some(where (p.eft == deny))' is a default-allow effect",
    ),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[mutation.name for mutation in MUTATIONS])
def test_policy_check_catches_mutation(
    policy_copy: PolicyCopy, run_policy: Callable[..., Result], mutation: Mutation
) -> None:
    line = mutation.apply(policy_copy)

    result = run_policy("check", "--policies", policy_copy.directory)

    assert result.exit_code == 1, result.output
    assert mutation.expected.format(line=line) in result.output


def test_policy_check_spelled_deny_changes_cell(
    policy_copy: PolicyCopy, run_policy: Callable[..., Result]
) -> None:
    policy_copy.replace_line(
        "policy.csv", MEMBER_DELETES_SECRET, "p, member, self, user_secret, delete, Deny"
    )

    result = run_policy("check", "--policies", policy_copy.directory)

    assert "member, self, user_secret, delete: expected allow, policy gives deny" in result.output


def test_policy_check_default_allow_grants_secrets(
    policy_copy: PolicyCopy, run_policy: Callable[..., Result]
) -> None:
    policy_copy.replace_line("model.conf", DEFAULT_DENY, "e = !some(where (p.eft == deny))")

    result = run_policy("check", "--policies", policy_copy.directory)

    assert "owner, self, user_secret, read: expected deny, policy gives allow" in result.output


def test_policy_check_process_needs_no_database(tmp_path: Path) -> None:
    database_path = tmp_path / "never-created.db"
    env = service_env(databases.sqlite_url(database_path), tmp_path)

    result = run_cli(["policy", "check"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint clean" in result.stdout
    assert not database_path.exists()


def test_policy_check_process_names_mutation(policy_copy: PolicyCopy, tmp_path: Path) -> None:
    line = policy_copy.append("policy.csv", "p, user-admin, other, api_key, create, allow")
    env = service_env(databases.sqlite_url(tmp_path / "never-created.db"), tmp_path)

    result = run_cli(["policy", "check", "--policies", str(policy_copy.directory)], env)

    assert result.returncode == 1
    expected = "user-admin, other, api_key, create: expected deny, policy gives allow"
    assert f"{expected} (policy.csv line {line})" in result.stdout
