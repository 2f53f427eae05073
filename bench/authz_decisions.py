"""Measure the cost of one authorization decision: the load-time table against Casbin.

The baseline is pycasbin's `Enforcer.enforce` on the same policy files, run beside the
table lookup in the same process, so the figure that matters is the ratio, not the time.

    .venv/bin/python bench/authz_decisions.py [--decisions N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable

from app.authz import Actor, Policy, Target, is_allowed
from app.authz.policy import POLICIES_DIR, new_enforcer
from app.authz.roles import all_cells, default_catalog


def time_calls(function: Callable[[], object], count: int) -> float:
    """Return the seconds `count` calls of `function` take, with the collector off."""
    gc.disable()
    try:
        started = time.perf_counter()
        for _ in range(count):
            function()
        return time.perf_counter() - started
    finally:
        gc.enable()


def measure_speed(decisions: int, repeats: int) -> tuple[float, float]:
    """Return the median seconds per decision for (table, enforcer)."""
    policy = Policy.load()
    enforcer = new_enforcer(POLICIES_DIR)
    cells = all_cells(policy.catalog)
    rng = random.Random(1)  # noqa: S311 - a repeatable sample of cells, not a secret.
    sample = [rng.choice(cells) for _ in range(decisions)]
    actor = Actor(uuid.uuid4(), "bench", frozenset({"member", "auditor"}))
    targets = [Target(cell.resource, owner_id=uuid.uuid4()) for cell in sample]

    def table_run() -> None:
        for cell, target in zip(sample, targets, strict=True):
            is_allowed(actor, cell.action, target, policy)

    def enforcer_run() -> None:
        for cell in sample:
            enforcer.enforce(cell.role, cell.relation, cell.resource, cell.action)

    table = [time_calls(table_run, 1) / decisions for _ in range(repeats)]
    casbin = [time_calls(enforcer_run, 1) / decisions for _ in range(repeats)]
    return statistics.median(table), statistics.median(casbin)


def retained_bytes(build: Callable[[], object]) -> int:
    """Return the bytes still allocated after `build()` returns, while its result lives."""
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        result = build()
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    del result
    return used


def measure_memory() -> tuple[int, int]:
    """Return the bytes kept by (a loaded Policy, a bare Casbin enforcer)."""
    catalog = default_catalog()
    # Warm up once, so one-time import and parser caches count against neither side.
    Policy.load(catalog=catalog)
    new_enforcer(POLICIES_DIR)
    return (
        retained_bytes(lambda: Policy.load(catalog=catalog)),
        retained_bytes(lambda: new_enforcer(POLICIES_DIR)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000, help="decisions per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each kind")
    args = parser.parse_args()

    table, casbin = measure_speed(args.decisions, args.repeats)
    policy_bytes, enforcer_bytes = measure_memory()
    print(f"decisions per run: {args.decisions}, runs: {args.repeats}")
    print(f"table lookup (is_allowed): {table * 1e6:.2f} us per decision")
    print(f"Casbin enforce (baseline): {casbin * 1e6:.2f} us per decision")
    print(f"ratio table / enforce: {table / casbin:.4f}")
    print(f"memory kept by a loaded Policy (decision table): {policy_bytes / 1024:.0f} KiB")
    print(f"memory kept by one bare enforcer (baseline): {enforcer_bytes / 1024:.0f} KiB")
    print(f"ratio Policy / enforcer: {policy_bytes / enforcer_bytes:.2f}")


if __name__ == "__main__":
    main()
