"""The policy lint: one mistake per test, each in a copy of the shipped files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.authz.lint import (
    DEFAULT_DENY_EFFECT,
    Finding,
    lint_model,
    lint_policies,
    lint_policy,
    matcher_problems,
)
from app.authz.roles import Catalog, default_catalog
from tests.authz.conftest import PolicyCopy

SHIPPED_MATCHER = (
    "r.role == p.role && r.rel == p.rel && r.obj == p.obj && r.act == p.act"
    ' && (r.obj != "user_secret" || r.rel == "self")'
)
MATCHER_LINE = f"m = {SHIPPED_MATCHER}"
EFFECT_LINE = f"e = {DEFAULT_DENY_EFFECT}"
MEMBER_READS_SECRET = "p, member, self, user_secret, read, allow"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def policy_findings(copy: PolicyCopy, catalog: Catalog) -> list[str]:
    return [str(finding) for finding in lint_policy(copy.policy_path, catalog)]


def model_findings(copy: PolicyCopy) -> list[str]:
    return [str(finding) for finding in lint_model(copy.model_path)]


def only_finding(findings: list[str]) -> str:
    assert len(findings) == 1, findings
    return findings[0]


# Shipped files


def test_lint_shipped_files_clean(policy_copy: PolicyCopy, catalog: Catalog) -> None:
    assert lint_policies(policy_copy.directory, catalog) == []


def test_lint_finding_format(policy_copy: PolicyCopy) -> None:
    finding = Finding(policy_copy.policy_path, 7, "problem")

    assert str(finding) == f"{policy_copy.policy_path}:7: problem"


def test_lint_missing_files(tmp_path: Path, catalog: Catalog) -> None:
    findings = [str(finding) for finding in lint_policies(tmp_path, catalog)]

    assert findings == [
        f"{tmp_path}/model.conf: file not found",
        f"{tmp_path}/policy.csv: file not found",
    ]


# policy.csv rows


@pytest.mark.parametrize("effect", ["Deny", "ALLOW", "allowed", "grant", ""])
def test_lint_policy_misspelled_effect(
    policy_copy: PolicyCopy, catalog: Catalog, effect: str
) -> None:
    line = policy_copy.replace_line(
        "policy.csv", MEMBER_READS_SECRET, f"p, member, self, user_secret, read, {effect}"
    )

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding.startswith(f"{policy_copy.policy_path}:{line}: effect {effect!r}")
    assert "pycasbin ignores" in finding


def test_lint_policy_trailing_comment(policy_copy: PolicyCopy, catalog: Catalog) -> None:
    line = policy_copy.replace_line(
        "policy.csv", MEMBER_READS_SECRET, f"{MEMBER_READS_SECRET} # own secrets"
    )

    findings = policy_findings(policy_copy, catalog)

    assert findings[0].startswith(f"{policy_copy.policy_path}:{line}: trailing comment")
    assert f"{policy_copy.policy_path}:{line}: effect 'allow # own secrets'" in findings[1]
    assert len(findings) == 2


def test_lint_policy_comment_lines_allowed(policy_copy: PolicyCopy, catalog: Catalog) -> None:
    policy_copy.append("policy.csv", "   # indented comment, p, owner, other, user, read")
    policy_copy.append("policy.csv", "")

    assert policy_findings(policy_copy, catalog) == []


def test_lint_policy_g_row(policy_copy: PolicyCopy, catalog: Catalog) -> None:
    line = policy_copy.append("policy.csv", "g, alice, owner")

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding.startswith(f"{policy_copy.policy_path}:{line}: g row")
    assert "roles are not assigned in the policy" in finding
    assert "a user id equal to a role name would inherit that role" in finding


def test_lint_policy_g2_row(policy_copy: PolicyCopy, catalog: Catalog) -> None:
    line = policy_copy.append("policy.csv", "g2, alice, org-admin, acme")

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding.startswith(f"{policy_copy.policy_path}:{line}: g2 row")


@pytest.mark.parametrize("key", ["P", "p2", "r", "x"])
def test_lint_policy_unknown_row_type(policy_copy: PolicyCopy, catalog: Catalog, key: str) -> None:
    line = policy_copy.append("policy.csv", f"{key}, owner, other, user, read, allow")

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding == (
        f"{policy_copy.policy_path}:{line}: unknown row type {key!r}, expected p:"
        " pycasbin ignores this row"
    )


@pytest.mark.parametrize(
    ("row", "count"),
    [
        ("p, owner, other, user, read", 4),
        ("p, owner, other, user, read, allow, extra", 6),
        ("p", 0),
    ],
    ids=["too-few", "too-many", "key-only"],
)
def test_lint_policy_wrong_arity(
    policy_copy: PolicyCopy, catalog: Catalog, row: str, count: int
) -> None:
    line = policy_copy.append("policy.csv", row)

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding == (
        f"{policy_copy.policy_path}:{line}: expected 5 fields after p"
        f" (role, relation, resource, action, effect), found {count}"
    )


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("p, superuser, other, user, read, allow", "unknown role 'superuser'"),
        ("p, Owner, other, user, read, allow", "unknown role 'Owner'"),
        ("p, owner, team, user, read, allow", "unknown relation 'team'"),
        ("p, owner, other, invoice, read, allow", "unknown resource 'invoice'"),
        ("p, owner, other, user, approve, allow", "unknown action 'approve' for resource 'user'"),
        (
            "p, owner, other, api_key, assign_role, allow",
            "action 'assign_role' is not valid for resource 'api_key'",
        ),
        (
            "p, owner, other, audit_log, delete, allow",
            "action 'delete' is not valid for resource 'audit_log'",
        ),
    ],
    ids=["role", "role-case", "relation", "resource", "action", "action-resource", "audit-delete"],
)
def test_lint_policy_unknown_name(
    policy_copy: PolicyCopy, catalog: Catalog, row: str, problem: str
) -> None:
    line = policy_copy.append("policy.csv", row)

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding.startswith(f"{policy_copy.policy_path}:{line}: {problem}")


def test_lint_policy_duplicate_row(policy_copy: PolicyCopy, catalog: Catalog) -> None:
    first = policy_copy.line_number("policy.csv", MEMBER_READS_SECRET)
    line = policy_copy.append("policy.csv", "p,member,self,user_secret,read,allow")

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding == f"{policy_copy.policy_path}:{line}: duplicate of line {first}"


@pytest.mark.parametrize(
    "row",
    [
        "p, member, other, user_secret, read, allow",
        "p, owner, org, user_secret, delete, allow",
        "p, org-admin, org, user_secret, read, allow",
    ],
    ids=["member-other", "owner-org", "org-admin-org"],
)
def test_lint_policy_dead_secret_row(policy_copy: PolicyCopy, catalog: Catalog, row: str) -> None:
    line = policy_copy.append("policy.csv", row)

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding.startswith(
        f"{policy_copy.policy_path}:{line}: dead row: the matcher's invariant denies user_secret"
    )


@pytest.mark.parametrize(
    "row",
    ["p, org-admin, self, organization, delete, allow", "p, org-member, other, user, read, allow"],
    ids=["org-admin-self", "org-member-other"],
)
def test_lint_policy_dead_org_role_row(policy_copy: PolicyCopy, catalog: Catalog, row: str) -> None:
    line = policy_copy.append("policy.csv", row)

    finding = only_finding(policy_findings(policy_copy, catalog))

    assert finding.startswith(f"{policy_copy.policy_path}:{line}: dead row:")
    assert "organization role" in finding


def test_lint_policy_deny_row_accepted(policy_copy: PolicyCopy, catalog: Catalog) -> None:
    policy_copy.append("policy.csv", "p, owner, other, user, delete, deny")

    assert policy_findings(policy_copy, catalog) == []


# model.conf


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("r", "role, rel, obj, act"),
        ("p", "role, rel, obj, act, eft"),
        ("e", DEFAULT_DENY_EFFECT),
        ("m", SHIPPED_MATCHER),
    ],
    ids=["r", "p", "e", "m"],
)
def test_lint_model_second_definition(policy_copy: PolicyCopy, key: str, value: str) -> None:
    first = policy_copy.line_number("model.conf", f"{key} = {value}")
    lines = policy_copy.lines("model.conf")
    lines.insert(first, f"{key} = {value}")
    policy_copy.model_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    finding = only_finding(model_findings(policy_copy))

    assert finding == (
        f"{policy_copy.model_path}:{first + 1}: second definition of {key}"
        f" (first on line {first}): pycasbin keeps only the last one"
    )


def test_lint_model_comment_inside_matcher(policy_copy: PolicyCopy) -> None:
    line = policy_copy.replace_line(
        "model.conf",
        MATCHER_LINE,
        "m = r.role == p.role && r.rel == p.rel && r.obj == p.obj && r.act == p.act"
        " # && (r.obj != 'user_secret' || r.rel == 'self')",
    )

    findings = model_findings(policy_copy)

    assert findings[0].startswith(f"{policy_copy.model_path}:{line}: '#' inside a definition")
    assert findings[1].startswith(f"{policy_copy.model_path}:{line}: matcher lacks the user_secret")
    assert len(findings) == 2


def test_lint_model_comment_after_effect(policy_copy: PolicyCopy) -> None:
    line = policy_copy.replace_line("model.conf", EFFECT_LINE, f"{EFFECT_LINE}  # default deny")

    finding = only_finding(model_findings(policy_copy))

    assert finding.startswith(f"{policy_copy.model_path}:{line}: '#' inside a definition")


@pytest.mark.parametrize(
    ("effect", "reason"),
    [
        ("!some(where (p.eft == deny))", "is a default-allow effect"),
        ("some(where (p.eft == allow))", "is an allow-override effect"),
        ("priority(p.eft) || deny", "is a priority effect"),
        (
            "some(where (p.eft == allow))&&!some(where (p.eft == deny))",
            "is an effect this service does not use",
        ),
    ],
    ids=["default-allow", "allow-override", "priority", "spacing"],
)
def test_lint_model_wrong_effect(policy_copy: PolicyCopy, effect: str, reason: str) -> None:
    line = policy_copy.replace_line("model.conf", EFFECT_LINE, f"e = {effect}")

    finding = only_finding(model_findings(policy_copy))

    assert finding.startswith(f"{policy_copy.model_path}:{line}: effect {effect!r} {reason}")


def test_lint_model_matcher_without_invariant(policy_copy: PolicyCopy) -> None:
    line = policy_copy.replace_line(
        "model.conf",
        MATCHER_LINE,
        "m = r.role == p.role && r.rel == p.rel && r.obj == p.obj && r.act == p.act",
    )

    finding = only_finding(model_findings(policy_copy))

    assert finding.startswith(f"{policy_copy.model_path}:{line}: matcher lacks the user_secret")


@pytest.mark.parametrize(
    ("term", "function"),
    [
        ("keyMatch(r.obj, p.obj)", "keyMatch"),
        ("regexMatch(r.act, p.act)", "regexMatch"),
        ("eval(p.act)", "eval"),
        ("globMatch(r.role, p.role)", "globMatch"),
    ],
    ids=["keyMatch", "regexMatch", "eval", "globMatch"],
)
def test_lint_matcher_function_call(term: str, function: str) -> None:
    matcher = SHIPPED_MATCHER.replace("r.act == p.act", term)

    problems = matcher_problems(matcher)

    assert problems[0].startswith(f"matcher calls {function}(): only exact string equality")


def test_lint_matcher_function_in_invariant() -> None:
    matcher = SHIPPED_MATCHER.replace('r.rel == "self"', 'keyMatch(r.rel, "s*")')

    problems = matcher_problems(matcher)

    assert problems[0].startswith("matcher calls keyMatch()")
    assert problems[1].startswith("matcher lacks the user_secret invariant")


def test_lint_matcher_top_level_or() -> None:
    problems = matcher_problems(f'{SHIPPED_MATCHER} || r.role == "owner"')

    assert problems == [
        "matcher has '||' outside parentheses, so one side alone can allow a request"
    ]


@pytest.mark.parametrize("field", ["role", "rel", "obj", "act"])
def test_lint_matcher_missing_equality(field: str) -> None:
    matcher = SHIPPED_MATCHER.replace(f"r.{field} == p.{field} && ", "")

    assert matcher_problems(matcher) == [
        f"matcher lacks r.{field} == p.{field}, so a row matches any {field}"
    ]


def test_lint_matcher_extra_term() -> None:
    problems = matcher_problems(f'{SHIPPED_MATCHER} && r.role != "auditor"')

    assert len(problems) == 1
    assert problems[0].startswith("matcher term 'r.role != \"auditor\"' is not allowed")


@pytest.mark.parametrize(
    "matcher",
    [
        SHIPPED_MATCHER,
        f"({SHIPPED_MATCHER})",
        "p.act == r.act && (r.rel == 'self' || r.obj != 'user_secret') && p.obj == r.obj"
        " && r.rel == p.rel && (r.role == p.role)",
    ],
    ids=["shipped", "parenthesized", "reordered"],
)
def test_lint_matcher_equivalent_forms(matcher: str) -> None:
    assert matcher_problems(matcher) == []


def test_lint_matcher_unbalanced_parentheses() -> None:
    assert matcher_problems(f"({SHIPPED_MATCHER}") == ["matcher has unbalanced parentheses"]


def test_lint_model_role_definition_section(policy_copy: PolicyCopy) -> None:
    line = policy_copy.append("model.conf", "[role_definition]")
    policy_copy.append("model.conf", "g = _, _")

    findings = model_findings(policy_copy)

    assert findings[0].startswith(f"{policy_copy.model_path}:{line}: [role_definition] is not")
    assert "roles come with the actor from the database" in findings[0]


def test_lint_model_unknown_section(policy_copy: PolicyCopy) -> None:
    line = policy_copy.append("model.conf", "[matcher]")

    finding = only_finding(model_findings(policy_copy))

    assert finding.startswith(f"{policy_copy.model_path}:{line}: unknown section [matcher]")


def test_lint_model_unexpected_key(policy_copy: PolicyCopy) -> None:
    line = policy_copy.append("model.conf", "m2 = r.role == p.role")

    finding = only_finding(model_findings(policy_copy))

    assert finding == (
        f"{policy_copy.model_path}:{line}: unexpected key 'm2' in [matchers], expected only m"
    )


def test_lint_model_semicolon_comment(policy_copy: PolicyCopy) -> None:
    line = policy_copy.append("model.conf", "; a comment")

    finding = only_finding(model_findings(policy_copy))

    assert finding == f"{policy_copy.model_path}:{line}: ';' comment: start comment lines with '#'"


def test_lint_model_line_continuation(policy_copy: PolicyCopy) -> None:
    line = policy_copy.replace_line(
        "model.conf",
        MATCHER_LINE,
        "m = r.role == p.role && r.rel == p.rel && \\\n"
        '  r.obj == p.obj && r.act == p.act && (r.obj != "user_secret" || r.rel == "self")',
    )

    finding = only_finding(model_findings(policy_copy))

    assert finding == (
        f"{policy_copy.model_path}:{line}: line continuation: write each definition on one line"
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("r = role, rel, obj, act", "r = sub, rel, obj, act"),
        ("r = role, rel, obj, act", "r = role, rel, obj"),
        ("p = role, rel, obj, act, eft", "p = role, rel, obj, act"),
    ],
    ids=["r-renamed", "r-short", "p-no-eft"],
)
def test_lint_model_wrong_fields(policy_copy: PolicyCopy, old: str, new: str) -> None:
    line = policy_copy.replace_line("model.conf", old, new)

    findings = model_findings(policy_copy)

    assert findings[0].startswith(f"{policy_copy.model_path}:{line}: {new[0]} must be")


def test_lint_model_missing_matcher(policy_copy: PolicyCopy) -> None:
    policy_copy.replace_line("model.conf", MATCHER_LINE, None)

    finding = only_finding(model_findings(policy_copy))

    assert finding == f"{policy_copy.model_path}: missing m = ... in [matchers]"
