from __future__ import annotations


class AuditError(Exception):
    """Base class for errors of the audit domain."""


class InvalidAuditQuery(AuditError):
    """One or more parameters of an audit log query are invalid.

    `problems` contains (parameter, rule) pairs, one for each failing parameter. The rules
    never contain the submitted value.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(parameter for parameter, _ in problems))
        self.problems = problems
