"""Strict lint of policies/model.conf and policies/policy.csv.

pycasbin (2.8) accepts many mistakes without an error. It ignores a row with an
unknown type key, or with an effect other than the exact strings `allow` and `deny`.
It keeps only the last of two `m =` lines, and it cuts the matcher and the effect at
the first `#`. This module parses both files itself and reports each such mistake
with its file and line.
`usersecrets policy check` runs it before comparing the policy with roles/matrix.csv.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.authz.policy import MODEL_FILE, POLICY_FILE
from app.authz.roles import Catalog

# The only model this service accepts, as pycasbin's config parser reads it.
SECTION_KEYS = {
    "request_definition": "r",
    "policy_definition": "p",
    "policy_effect": "e",
    "matchers": "m",
}
REQUEST_FIELDS = ("role", "rel", "obj", "act")
POLICY_FIELDS = ("role", "rel", "obj", "act", "eft")
# Allowed only when some row allows and no row denies, so a request that no row
# matches is denied.
DEFAULT_DENY_EFFECT = "some(where (p.eft == allow)) && !some(where (p.eft == deny))"
INVARIANT = '(r.obj != "user_secret" || r.rel == "self")'
EFFECTS = ("allow", "deny")
POLICY_ROW_FIELDS = ("role", "relation", "resource", "action", "effect")

# Effects that pycasbin also accepts, with what is wrong with each here.
_KNOWN_WRONG_EFFECTS = {
    "!some(where (p.eft == deny))": (
        "a default-allow effect: a request that no row matches is allowed"
    ),
    "some(where (p.eft == allow))": "an allow-override effect: a deny row cannot deny",
    "priority(p.eft) || deny": "a priority effect: the first matching row decides",
}


@dataclass(frozen=True)
class Finding:
    """A problem in one of the policy files, at a line when it has one."""

    path: Path
    line: int | None
    problem: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.problem}"
        return f"{self.path}:{self.line}: {self.problem}"


@dataclass(frozen=True)
class PolicyRow:
    """A non-comment line of policy.csv, split into fields the way pycasbin splits it.

    `key` is the first field (`p` for every valid row) and `fields` are the rest, each
    stripped of surrounding whitespace. `text` is the stripped line.
    """

    line: int
    text: str
    key: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ModelDefinition:
    """A `key = value` definition of model.conf, in its section."""

    line: int
    text: str
    section: str
    key: str
    value: str


@dataclass
class ModelFile:
    """The definitions of model.conf and the structural problems found while reading it."""

    path: Path
    definitions: list[ModelDefinition] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def definition(self, key: str) -> ModelDefinition | None:
        """Return the last definition of `key`, the one pycasbin uses, or None."""
        matching = [item for item in self.definitions if item.key == key]
        return matching[-1] if matching else None


def read_lines(path: Path) -> list[str]:
    """Read the lines of `path` as UTF-8. OSError and UnicodeDecodeError propagate."""
    return path.read_text(encoding="utf-8").splitlines()


# policy.csv


def read_policy_rows(path: Path) -> list[PolicyRow]:
    """Parse policy.csv into rows, skipping blank lines and whole-line `#` comments.

    Fields are split at every comma. pycasbin keeps a comma inside brackets or
    parentheses within one field, but no valid name contains either.
    """
    rows: list[PolicyRow] = []
    for number, raw in enumerate(read_lines(path), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        key, *fields = (part.strip() for part in text.split(","))
        rows.append(PolicyRow(line=number, text=text, key=key, fields=tuple(fields)))
    return rows


def lint_policy(path: Path, catalog: Catalog) -> list[Finding]:
    """Check every row of policy.csv and return the problems in line order."""
    findings: list[Finding] = []
    first_line: dict[tuple[str, ...], int] = {}
    for row in read_policy_rows(path):
        problems = list(_row_problems(row, catalog))
        identity = (row.key, *row.fields)
        if identity in first_line:
            problems.append(f"duplicate of line {first_line[identity]}")
        else:
            first_line[identity] = row.line
        findings.extend(Finding(path, row.line, problem) for problem in problems)
    return findings


def _row_problems(row: PolicyRow, catalog: Catalog) -> Iterator[str]:
    if re.fullmatch(r"g\d*", row.key):
        yield (
            f"{row.key} row: roles are not assigned in the policy, because a user id equal "
            "to a role name would inherit that role. The service reads roles from the "
            "database with the actor"
        )
        return
    if row.key != "p":
        yield f"unknown row type {row.key!r}, expected p: pycasbin ignores this row"
        return

    if "#" in row.text:
        yield (
            "trailing comment: pycasbin reads it as part of the last field, so put "
            "comments on their own line starting with '#'"
        )
    if len(row.fields) != len(POLICY_ROW_FIELDS):
        yield (
            f"expected {len(POLICY_ROW_FIELDS)} fields after p "
            f"({', '.join(POLICY_ROW_FIELDS)}), found {len(row.fields)}"
        )
        return

    role, relation, resource, action, effect = row.fields
    yield from _name_problems(catalog, role, relation, resource, action)
    if effect not in EFFECTS:
        yield (
            f"effect {effect!r} is not exactly allow or deny: pycasbin ignores a row "
            "with any other effect"
        )
    yield from _dead_row_problems(catalog, role, relation, resource)


def _name_problems(
    catalog: Catalog, role: str, relation: str, resource: str, action: str
) -> Iterator[str]:
    if role not in catalog.role_names():
        yield f"unknown role {role!r}, expected one of {', '.join(catalog.role_names())}"
    if relation not in catalog.relations:
        yield f"unknown relation {relation!r}, expected one of {', '.join(catalog.relations)}"
    if resource not in catalog.resources:
        yield f"unknown resource {resource!r}, expected one of {', '.join(catalog.resources)}"
        return

    valid_actions = catalog.resources[resource]
    if action in valid_actions:
        return
    if any(action in actions for actions in catalog.resources.values()):
        problem = f"action {action!r} is not valid for resource {resource!r}"
    else:
        problem = f"unknown action {action!r} for resource {resource!r}"
    yield f"{problem}, expected one of {', '.join(valid_actions)}"


def _dead_row_problems(catalog: Catalog, role: str, relation: str, resource: str) -> Iterator[str]:
    if resource == "user_secret" and relation in catalog.relations and relation != "self":
        yield (
            f"dead row: the matcher's invariant denies user_secret on relation {relation!r} "
            "whatever the rows say, because a user secret is reachable through self only"
        )
    scopes = {item.name: item.scope for item in catalog.roles}
    if scopes.get(role) == "organization" and relation in catalog.relations and relation != "org":
        yield (
            f"dead row: {role!r} is an organization role, which the service pairs only "
            f"with relation org, so it never requests relation {relation!r}"
        )


# model.conf


def read_model(path: Path) -> ModelFile:
    """Parse model.conf the way pycasbin's config parser does, noting structural problems.

    Lines that end in a backslash are joined with the next line, as pycasbin joins
    them, and the definition gets the number of its first line.
    """
    model = ModelFile(path)
    section: str | None = None
    seen_sections: set[str] = set()
    lines = read_lines(path)
    index = 0
    while index < len(lines):
        number = index + 1
        text = lines[index].strip()
        index += 1
        if not text or text.startswith("#"):
            continue
        if text.startswith(";"):
            model.findings.append(
                Finding(path, number, "';' comment: start comment lines with '#'")
            )
            continue
        if text.startswith("["):
            section = _read_section_header(model, number, text, seen_sections)
            continue

        if text.endswith("\\"):
            model.findings.append(
                Finding(path, number, "line continuation: write each definition on one line")
            )
            while text.endswith("\\") and index < len(lines):
                text = text[:-1].strip() + " " + lines[index].strip()
                index += 1
        _read_definition(model, number, text, section)
    return model


def _read_section_header(
    model: ModelFile, number: int, text: str, seen_sections: set[str]
) -> str | None:
    if not text.endswith("]"):
        model.findings.append(Finding(model.path, number, f"invalid section header {text!r}"))
        return None

    # pycasbin keeps spaces inside the brackets, so "[ matchers ]" is another section.
    name = text[1:-1]
    if name == "role_definition":
        model.findings.append(
            Finding(
                model.path,
                number,
                "[role_definition] is not allowed: roles come with the actor from the "
                "database, and a g role would let a user id equal to a role name inherit it",
            )
        )
    elif name not in SECTION_KEYS:
        expected = ", ".join(f"[{item}]" for item in SECTION_KEYS)
        model.findings.append(
            Finding(model.path, number, f"unknown section [{name}], expected one of {expected}")
        )
    elif name in seen_sections:
        model.findings.append(Finding(model.path, number, f"section [{name}] appears twice"))
    seen_sections.add(name)
    return name


def _read_definition(model: ModelFile, number: int, text: str, section: str | None) -> None:
    if "=" not in text:
        model.findings.append(
            Finding(model.path, number, "expected 'key = value' or a [section] header")
        )
        return
    if section is None:
        model.findings.append(Finding(model.path, number, "definition outside any section"))
        return

    key, value = (part.strip() for part in text.split("=", 1))
    if "#" in text:
        if key in ("e", "m"):
            # Check what pycasbin evaluates: it drops everything from the first '#'.
            value = value[: value.find("#")].strip()
        model.findings.append(
            Finding(
                model.path,
                number,
                "'#' inside a definition: pycasbin cuts the matcher and the effect at '#', "
                "so put comments on their own line starting with '#'",
            )
        )
    expected_key = SECTION_KEYS.get(section)
    if expected_key is None:
        # The section header was reported, and pycasbin ignores its keys.
        return
    if key != expected_key:
        model.findings.append(
            Finding(
                model.path,
                number,
                f"unexpected key {key!r} in [{section}], expected only {expected_key}",
            )
        )
        return

    earlier = model.definition(key)
    if earlier is not None:
        model.findings.append(
            Finding(
                model.path,
                number,
                f"second definition of {key} (first on line {earlier.line}): "
                "pycasbin keeps only the last one",
            )
        )
    model.definitions.append(
        ModelDefinition(line=number, text=text, section=section, key=key, value=value)
    )


def lint_model(path: Path) -> list[Finding]:
    """Check model.conf against the one model this service accepts."""
    model = read_model(path)
    findings = list(model.findings)
    for section, key in SECTION_KEYS.items():
        definition = model.definition(key)
        if definition is None:
            findings.append(Finding(path, None, f"missing {key} = ... in [{section}]"))
            continue
        findings.extend(
            Finding(path, definition.line, problem) for problem in _definition_problems(definition)
        )
    return sorted(findings, key=lambda item: item.line or 0)


def _definition_problems(definition: ModelDefinition) -> list[str]:
    if not definition.value:
        return [f"empty value for {definition.key}"]
    if definition.key == "r":
        return _fields_problems(definition, REQUEST_FIELDS)
    if definition.key == "p":
        return _fields_problems(definition, POLICY_FIELDS)
    if definition.key == "e":
        return _effect_problems(definition.value)
    return matcher_problems(definition.value)


def _fields_problems(definition: ModelDefinition, expected: tuple[str, ...]) -> list[str]:
    found = tuple(part.strip() for part in definition.value.split(","))
    if found == expected:
        return []
    return [
        f"{definition.key} must be {', '.join(expected)!r}, found {definition.value!r}: "
        "the service and roles/matrix.csv use exactly these fields"
    ]


def _effect_problems(value: str) -> list[str]:
    if value == DEFAULT_DENY_EFFECT:
        return []
    reason = _KNOWN_WRONG_EFFECTS.get(value, "an effect this service does not use")
    return [
        f"effect {value!r} is {reason}. Expected exactly {DEFAULT_DENY_EFFECT!r}, which "
        "allows a request only when some row allows it and no row denies it"
    ]


# The matcher

_MATCHER_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"[^"]*"|'[^']*')
      | (?P<operator>&&|\|\||==|!=|<=|>=|[!<>()\[\]+\-*/%,])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<other>\S+?)
    )""",
    re.VERBOSE,
)


def tokenize_matcher(expression: str) -> list[str]:
    """Split a matcher into tokens, with every string literal in double quotes."""
    tokens: list[str] = []
    for match in _MATCHER_TOKEN.finditer(expression):
        string = match.group("string")
        if string is not None:
            tokens.append('"' + string[1:-1] + '"')
            continue
        token = match.group("operator") or match.group("name") or match.group("other")
        if token:
            tokens.append(token)
    return tokens


def _canonical(expression: str) -> str:
    return " ".join(_strip_outer_parentheses(tokenize_matcher(expression)))


def _called_functions(tokens: list[str]) -> list[str]:
    names: list[str] = []
    for token, following in itertools.pairwise(tokens):
        if following == "(" and re.fullmatch(r"[A-Za-z_][\w.]*", token) and token not in names:
            names.append(token)
    return names


def _balanced(tokens: list[str]) -> bool:
    depth = 0
    for token in tokens:
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth < 0:
            return False
    return depth == 0


def _split_top_level(tokens: list[str], operator: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth == 0 and token == operator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _strip_outer_parentheses(tokens: list[str]) -> list[str]:
    """Remove parentheses that enclose the whole token list, as often as they do."""
    while len(tokens) >= 2 and tokens[0] == "(" and tokens[-1] == ")":
        depth = 0
        for index, token in enumerate(tokens):
            depth += {"(": 1, ")": -1}.get(token, 0)
            if depth == 0 and index < len(tokens) - 1:
                return tokens
        tokens = tokens[1:-1]
    return tokens


_EQUALITIES = {
    form: name
    for name in REQUEST_FIELDS
    for form in (_canonical(f"r.{name} == p.{name}"), _canonical(f"p.{name} == r.{name}"))
}
_INVARIANT_FORMS = frozenset(
    {
        _canonical(INVARIANT),
        _canonical('(r.rel == "self" || r.obj != "user_secret")'),
    }
)


def has_user_secret_invariant(expression: str) -> bool:
    """Return whether the matcher's top-level conjunction contains the user_secret invariant."""
    tokens = _strip_outer_parentheses(tokenize_matcher(expression))
    if not _balanced(tokens) or _split_top_level(tokens, "||") != [tokens]:
        return False
    terms = _split_top_level(tokens, "&&")
    return any(" ".join(_strip_outer_parentheses(term)) in _INVARIANT_FORMS for term in terms)


def matcher_problems(expression: str) -> list[str]:
    """Check that a matcher is the conjunction of the four field equalities and the invariant.

    Any function call is rejected, because keyMatch, regexMatch, eval and the like
    can match more than the exact names written in a row.
    """
    tokens = tokenize_matcher(expression)
    problems = [
        f"matcher calls {name}(): only exact string equality is allowed, because a "
        "function can match more than the names written in a row"
        for name in _called_functions(tokens)
    ]
    if not _balanced(tokens):
        return [*problems, "matcher has unbalanced parentheses"]

    tokens = _strip_outer_parentheses(tokens)
    if _split_top_level(tokens, "||") != [tokens]:
        return [
            *problems,
            "matcher has '||' outside parentheses, so one side alone can allow a request",
        ]

    fields_compared: set[str] = set()
    has_invariant = False
    for term in _split_top_level(tokens, "&&"):
        canonical = " ".join(_strip_outer_parentheses(term))
        if canonical in _EQUALITIES:
            fields_compared.add(_EQUALITIES[canonical])
        elif canonical in _INVARIANT_FORMS:
            has_invariant = True
        elif not _called_functions(term):
            problems.append(
                f"matcher term {canonical!r} is not allowed: the matcher may only compare "
                "each request field with the same policy field, plus the user_secret invariant"
            )

    for name in REQUEST_FIELDS:
        if name not in fields_compared:
            problems.append(f"matcher lacks r.{name} == p.{name}, so a row matches any {name}")
    if not has_invariant:
        problems.append(
            f"matcher lacks the user_secret invariant {INVARIANT}, which keeps every user "
            "secret with its owner whatever the rows say"
        )
    return problems


# Both files


def lint_policies(directory: Path, catalog: Catalog) -> list[Finding]:
    """Lint model.conf and policy.csv in `directory` against the catalog's vocabulary."""
    model_path = directory / MODEL_FILE
    policy_path = directory / POLICY_FILE
    findings: list[Finding] = []
    for path in (model_path, policy_path):
        if not path.is_file():
            findings.append(Finding(path, None, "file not found"))
            continue
        try:
            if path == model_path:
                findings.extend(lint_model(path))
            else:
                findings.extend(lint_policy(path, catalog))
        except (OSError, UnicodeDecodeError) as error:
            findings.append(Finding(path, None, f"cannot read the file: {error}"))
    return findings
