"""Authorization decisions and policy loading from many threads at once.

The server handles requests on several threads (waitress), so decisions must be the
same from any thread, including the first ones, which load the policy.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable

import pytest

from app.authz import Actor, Target, is_allowed
from app.authz import policy as policy_module
from app.authz.policy import Policy
from app.authz.roles import default_catalog

THREADS = 16
REQUESTS = 300
LOADING_THREADS = 8
LOADS_PER_THREAD = 3
SEED = 20240611

Request = tuple[Actor, str, Target]


def random_requests(rng: random.Random, count: int) -> list[Request]:
    """Build random actors and targets over a few users and organizations."""
    catalog = default_catalog()
    site_roles = [role.name for role in catalog.roles if role.scope == "site" and not role.implicit]
    users = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(4)]
    orgs = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(3)]
    org_role_choices = [
        frozenset(),
        frozenset({"org-member"}),
        frozenset({"org-member", "org-admin"}),
    ]

    requests: list[Request] = []
    for _ in range(count):
        actor_id = rng.choice(users)
        org_roles = {org: rng.choice(org_role_choices) for org in orgs}
        actor = Actor(
            user_id=actor_id,
            username=f"user-{actor_id.hex[:8]}",
            site_roles=frozenset({"member", *rng.sample(site_roles, rng.randint(0, 2))}),
            org_roles={org: roles for org, roles in org_roles.items() if roles},
        )
        resource = rng.choice(list(catalog.resources))
        target_orgs: frozenset[uuid.UUID] = frozenset()
        if resource != "user_secret":
            target_orgs = frozenset(rng.sample(orgs, rng.randint(0, 2)))
        target = Target(
            resource=resource,
            owner_id=rng.choice([actor_id, rng.choice(users), None]),
            org_ids=target_orgs,
        )
        requests.append((actor, rng.choice(catalog.resources[resource]), target))
    return requests


def run_in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run `work(index)` on `count` threads started together and return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as error:
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_is_allowed_threads_match_single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # A seeded generator keeps the requests the same on every run.
    requests = random_requests(random.Random(SEED), REQUESTS)  # noqa: S311
    expected = [is_allowed(actor, action, target) for actor, action, target in requests]
    # Start without a loaded policy, so the first calls on every thread race to load it.
    monkeypatch.setattr(policy_module, "_current", None)
    answers: list[list[bool]] = [[] for _ in range(THREADS)]
    orders: list[list[int]] = []
    for index in range(THREADS):
        order = list(range(REQUESTS))
        random.Random(SEED + index).shuffle(order)  # noqa: S311
        orders.append(order)

    def work(index: int) -> None:
        by_position = {}
        for position in orders[index]:
            actor, action, target = requests[position]
            by_position[position] = is_allowed(actor, action, target)
        answers[index] = [by_position[position] for position in range(REQUESTS)]

    errors = run_in_threads(THREADS, work)

    assert errors == []
    assert True in expected
    assert False in expected
    for index, thread_answers in enumerate(answers):
        assert thread_answers == expected, f"thread {index}"


def test_policy_load_threads_same_decisions() -> None:
    reference = Policy.load()
    loaded: list[Policy] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        for _ in range(LOADS_PER_THREAD):
            policy = Policy.load()
            with lock:
                loaded.append(policy)

    errors = run_in_threads(LOADING_THREADS, work)

    assert [repr(error) for error in errors] == []
    assert len(loaded) == LOADING_THREADS * LOADS_PER_THREAD
    assert all(policy.allowed == reference.allowed for policy in loaded)
