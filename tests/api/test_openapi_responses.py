"""Real responses validate against the OpenAPI document, on SQLite and PostgreSQL.

One scenario drives every documented operation through the Flask test client, with the
status codes a client meets in practice, and checks each response's status, headers and
body against the document. The scenario must reach every documented operation, so an
operation added to the document without a response check here fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.api.openapi import openapi_document
from tests.api.openapi_support import ResponseChecker, documented_operations
from tests.support.factories import bearer, make_token, make_user

SECRET_VALUE = "openapi-canary-3e1d"


@dataclass
class Scenario:
    """Sends requests by path template and records what disagrees with the document."""

    client: FlaskClient
    checker: ResponseChecker
    problems: list[str] = field(default_factory=list)
    reached: set[tuple[str, str]] = field(default_factory=set)

    def call(
        self,
        method: str,
        template: str,
        token: str | None,
        expected_status: int,
        *,
        body: Any = None,
        text_body: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        **path_variables: str,
    ) -> TestResponse:
        """Send one request to `template` filled with the percent-encoded `path_variables`.

        `body` is sent as JSON, `text_body` as text/plain.
        """
        url = template.format(
            **{name: quote(value, safe="") for name, value in path_variables.items()}
        )
        request_headers = {**(bearer(token) if token else {}), **(headers or {})}
        if text_body is None:
            response = self.client.open(
                url, method=method.upper(), json=body, headers=request_headers, query_string=query
            )
        else:
            response = self.client.open(
                url,
                method=method.upper(),
                data=text_body,
                content_type="text/plain",
                headers=request_headers,
            )

        label = f"{method.upper()} {template} -> {response.status_code}"
        if response.status_code != expected_status:
            self.problems.append(f"{label}: expected {expected_status}")
        self.problems.extend(
            f"{label}: {problem}" for problem in self.checker.problems(template, method, response)
        )
        self.reached.add((template, method))
        return response


@dataclass(frozen=True)
class Tokens:
    alice: str
    owner: str


@pytest.fixture
def tokens(engine: Engine) -> Tokens:
    with Session(engine) as session:
        alice = make_token(session, make_user(session, "alice", email="alice@example.com"))
        owner = make_token(session, make_user(session, "olivia", site_roles=["owner"]))
        session.commit()
    return Tokens(alice=alice, owner=owner)


@pytest.fixture
def scenario(client: FlaskClient) -> Scenario:
    return Scenario(client=client, checker=ResponseChecker(openapi_document()))


def test_openapi_responses_match_document(scenario: Scenario, tokens: Tokens) -> None:
    exercise_service(scenario)
    exercise_users(scenario, tokens)
    exercise_tokens(scenario, tokens)
    exercise_organizations(scenario, tokens)
    exercise_secrets(scenario, tokens)
    exercise_audit_log(scenario, tokens)

    assert scenario.problems == []
    assert sorted(documented_operations(openapi_document()) - scenario.reached) == []


def exercise_service(s: Scenario) -> None:
    s.call("get", "/healthz", None, 200)
    s.call("get", "/api/v2/openapi.json", None, 200)


def exercise_users(s: Scenario, tokens: Tokens) -> None:
    s.call("get", "/api/v2/users/{user}", tokens.alice, 200, user="me")
    s.call("get", "/api/v2/users/{user}", None, 401, user="me")
    s.call("get", "/api/v2/users/{user}", tokens.alice, 404, user="olivia")
    s.call("get", "/api/v2/users", tokens.owner, 200)

    new_user = {"username": "carol", "email": "carol@example.com"}
    s.call("post", "/api/v2/users", tokens.owner, 201, body=new_user)
    s.call("post", "/api/v2/users", tokens.owner, 409, body=new_user)
    s.call("post", "/api/v2/users", tokens.owner, 400, body={"username": "me"})
    s.call("post", "/api/v2/users", tokens.alice, 403, body={**new_user, "username": "dave"})
    s.call(
        "patch",
        "/api/v2/users/{user}",
        tokens.owner,
        200,
        user="carol",
        body={"email": "c@example.org"},
    )
    s.call(
        "patch",
        "/api/v2/users/{user}",
        tokens.alice,
        403,
        user="me",
        body={"site_roles": ["owner"]},
    )
    s.call("delete", "/api/v2/users/{user}", tokens.owner, 204, user="carol")
    s.call("delete", "/api/v2/users/{user}", tokens.owner, 404, user="carol")


def exercise_tokens(s: Scenario, tokens: Tokens) -> None:
    collection = "/api/v2/users/{user}/tokens"
    item = "/api/v2/users/{user}/tokens/{token_id}"

    created = s.call("post", collection, tokens.alice, 201, user="me", body={"lifetime_days": 7})
    token_id = (created.get_json() or {}).get("id", "missing")
    s.call("post", collection, tokens.alice, 400, user="me", body={"lifetime_days": 0})
    s.call("get", collection, tokens.alice, 200, user="me")
    s.call("get", item, tokens.alice, 200, user="me", token_id=token_id)
    s.call("delete", item, tokens.alice, 204, user="me", token_id=token_id)
    s.call("get", item, tokens.alice, 404, user="me", token_id=token_id)


def exercise_organizations(s: Scenario, tokens: Tokens) -> None:
    collection = "/api/v2/organizations"
    item = "/api/v2/organizations/{org}"
    members = "/api/v2/organizations/{org}/members"
    member = "/api/v2/organizations/{org}/members/{user}"

    s.call("post", collection, tokens.owner, 201, body={"name": "acme"})
    s.call("post", collection, tokens.owner, 409, body={"name": "ACME"})
    s.call("get", collection, tokens.owner, 200)
    s.call("get", item, tokens.owner, 200, org="acme")
    s.call("patch", item, tokens.owner, 200, org="acme", body={"name": "acme-corp"})
    s.call("post", members, tokens.owner, 201, org="acme-corp", body={"username": "alice"})
    s.call("post", members, tokens.owner, 409, org="acme-corp", body={"username": "alice"})
    s.call("get", members, tokens.owner, 200, org="acme-corp")
    s.call("get", member, tokens.owner, 200, org="acme-corp", user="alice")
    s.call(
        "patch",
        member,
        tokens.alice,
        403,
        org="acme-corp",
        user="alice",
        body={"role": "org-admin"},
    )
    s.call(
        "patch",
        member,
        tokens.owner,
        200,
        org="acme-corp",
        user="alice",
        body={"role": "org-admin"},
    )
    s.call("delete", member, tokens.owner, 204, org="acme-corp", user="alice")
    s.call("delete", item, tokens.owner, 204, org="acme-corp")
    s.call("get", item, tokens.owner, 404, org="acme-corp")


def exercise_secrets(s: Scenario, tokens: Tokens) -> None:
    collection = "/api/v2/users/{user}/secrets"
    item = "/api/v2/users/{user}/secrets/{name}"
    fields = {"name": "db password", "value": SECRET_VALUE, "env_name": "DB_PASSWORD"}

    s.call("post", collection, tokens.alice, 201, user="me", body=fields)
    s.call("post", collection, tokens.alice, 409, user="me", body=fields)
    s.call("post", collection, tokens.alice, 400, user="me", body={"name": "a/b", "value": 1})
    s.call("post", collection, tokens.owner, 403, user="alice", body={**fields, "name": "x"})
    s.call("post", collection, tokens.alice, 404, user="nobody", body=fields)
    s.call(
        "post",
        collection,
        tokens.alice,
        413,
        user="me",
        body={"name": "big", "value": "x" * 600_000},
    )
    s.call("post", collection, tokens.alice, 415, user="me", text_body="name=x")

    s.call("get", collection, tokens.alice, 200, user="me")
    s.call("get", collection, tokens.owner, 403, user="alice")
    s.call("get", item, tokens.alice, 200, user="me", name="db password")
    s.call("get", item, tokens.owner, 404, user="alice", name="db password")
    s.call(
        "patch", item, tokens.alice, 200, user="me", name="db password", body={"description": "d"}
    )
    s.call(
        "patch",
        item,
        tokens.alice,
        412,
        user="me",
        name="db password",
        headers={"If-Match": '"1"'},
        body={"value": SECRET_VALUE},
    )
    s.call("patch", item, tokens.alice, 400, user="me", name="db password", body={})
    s.call(
        "delete",
        item,
        tokens.alice,
        400,
        user="me",
        name="db password",
        headers={"If-Match": "W/1"},
    )
    s.call(
        "delete",
        item,
        tokens.alice,
        412,
        user="me",
        name="db password",
        headers={"If-Match": '"1"'},
    )
    s.call(
        "delete",
        item,
        tokens.alice,
        204,
        user="me",
        name="db password",
        headers={"If-Match": '"2"'},
    )
    s.call("delete", item, tokens.alice, 404, user="me", name="db password")


def exercise_audit_log(s: Scenario, tokens: Tokens) -> None:
    s.call("get", "/api/v2/audit-logs", tokens.owner, 200, query={"limit": "2"})
    s.call("get", "/api/v2/audit-logs", tokens.owner, 400, query={"limit": "0"})
    s.call("get", "/api/v2/audit-logs", tokens.alice, 403)
