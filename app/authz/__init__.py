"""Authorization: the Casbin policy in policies/, applied in the data layer."""

from app.authz.actor import Actor, Target
from app.authz.decide import ListScope, authorize, count_decisions, is_allowed, list_scope
from app.authz.errors import Forbidden, PolicyLoadError
from app.authz.policy import Policy, current_policy

__all__ = [
    "Actor",
    "Forbidden",
    "ListScope",
    "Policy",
    "PolicyLoadError",
    "Target",
    "authorize",
    "count_decisions",
    "current_policy",
    "is_allowed",
    "list_scope",
]
