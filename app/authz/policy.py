"""The Casbin policy, evaluated once at load time into a table of allowed cells.

pycasbin re-parses the matcher on every `enforce` call and has raised sporadic
SystemError when called from several threads on CPython 3.11. The vocabulary is finite
(roles x relations x resources x actions, a few hundred cells), so the enforcer decides
every cell once, under a lock, and requests look their decisions up in an immutable set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import casbin

from app.authz.errors import PolicyLoadError
from app.authz.roles import Catalog, Cell, all_cells, default_catalog

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
MODEL_FILE = "model.conf"
POLICY_FILE = "policy.csv"


# Serializes every use of pycasbin in this process, for the reason in the module docstring.
_casbin_lock = threading.Lock()


@dataclass(frozen=True)
class Policy:
    """The decisions of one version of the policy files over the catalog's vocabulary."""

    directory: Path
    catalog: Catalog
    allowed: frozenset[Cell]

    @classmethod
    def load(cls, directory: Path = POLICIES_DIR, catalog: Catalog | None = None) -> Policy:
        """Load model.conf and policy.csv from `directory` and decide every cell."""
        catalog = catalog or default_catalog()
        with _casbin_lock:
            enforcer = new_enforcer(directory)
            allowed = frozenset(
                cell
                for cell in all_cells(catalog)
                if enforcer.enforce(cell.role, cell.relation, cell.resource, cell.action)
            )
        return cls(directory=directory, catalog=catalog, allowed=allowed)

    def is_allowed(self, role: str, relation: str, resource: str, action: str) -> bool:
        return Cell(role, relation, resource, action) in self.allowed


def new_enforcer(directory: Path) -> casbin.Enforcer:
    """Create a Casbin enforcer for the files in `directory`, with its request logging off."""
    model_path = directory / MODEL_FILE
    policy_path = directory / POLICY_FILE
    for path in (model_path, policy_path):
        if not path.is_file():
            raise PolicyLoadError(f"policy file not found: {path}")
    try:
        # enable_log=False keeps Casbin from configuring logging for the whole process.
        return casbin.Enforcer(str(model_path), str(policy_path), enable_log=False)
    except Exception as exc:  # Casbin raises bare Exception, RuntimeError and others.
        raise PolicyLoadError(f"cannot load the policy in {directory}: {exc}") from exc


_current_lock = threading.Lock()
_current: Policy | None = None


def current_policy() -> Policy:
    """Return the process's policy, loading the shipped files on first use."""
    global _current
    if _current is None:
        with _current_lock:
            if _current is None:
                _current = Policy.load()
    return _current
