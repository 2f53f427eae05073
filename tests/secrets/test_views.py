"""The user-secrets REST API through the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.auth.tokens import load_actor
from app.authz import count_decisions
from app.secrets import store
from app.secrets.models import UserSecret
from app.users.models import User
from tests.secrets.helpers import PLAINTEXT, count_audit_rows
from tests.support.factories import add_member, bearer, make_org, make_token, make_user

SECRETS = "/api/v2/users/me/secrets"
METADATA_KEYS = {
    "id",
    "name",
    "description",
    "env_name",
    "file_path",
    "version",
    "created_at",
    "updated_at",
}
ERROR_KEYS = {"message", "detail", "validations"}


@dataclass(frozen=True)
class People:
    """Tokens of the test users. Alice owns the secrets, and the others try to reach them."""

    alice: str
    bob: str
    site_owner: str
    auditor: str
    user_admin: str
    org_admin: str


@pytest.fixture
def people(engine: Engine) -> People:
    with Session(engine) as session:
        alice = make_user(session, "alice")
        org = make_org(session, "acme")
        add_member(session, org, alice)
        org_admin = make_user(session, "oscar")
        add_member(session, org, org_admin, role="org-admin")
        tokens = People(
            alice=make_token(session, alice),
            bob=make_token(session, make_user(session, "bob")),
            site_owner=make_token(session, make_user(session, "olivia", site_roles=["owner"])),
            auditor=make_token(session, make_user(session, "audrey", site_roles=["auditor"])),
            user_admin=make_token(session, make_user(session, "ursula", site_roles=["user-admin"])),
            org_admin=make_token(session, org_admin),
        )
        session.commit()
    return tokens


def post_secret(client: FlaskClient, token: str, **fields: Any) -> TestResponse:
    fields.setdefault("value", PLAINTEXT)
    return client.post(SECRETS, json=fields, headers=bearer(token))


def audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return count_audit_rows(session)


def json_of(response: TestResponse) -> Any:
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)
    return body


def fields_of(response: TestResponse) -> list[str]:
    return [validation["field"] for validation in json_of(response)["validations"]]


def stored_values(app: Flask, engine: Engine, username: str) -> dict[str, str]:
    """Decrypt a user's secrets through the store with the app's keyring."""
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        actor = load_actor(session, user)
        keyring = app.extensions["usersecrets.keyring"]
        secrets = store.list_secrets_with_values(session, actor, keyring, user.id)
    return {secret.metadata.name: secret.value for secret in secrets}


# --- create ------------------------------------------------------------------------


def test_post_secret_returns_201_metadata(
    client: FlaskClient, engine: Engine, people: People
) -> None:
    response = post_secret(
        client,
        people.alice,
        name="db",
        description="staging",
        env_name="DB_PASSWORD",
        file_path="~/.db",
    )

    body = json_of(response)
    assert response.status_code == 201
    assert set(body) == METADATA_KEYS
    assert body["name"] == "db"
    assert body["description"] == "staging"
    assert body["env_name"] == "DB_PASSWORD"
    assert body["file_path"] == "~/.db"
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert PLAINTEXT not in response.get_data(as_text=True)
    assert audit_count(engine) == 1


def test_post_secret_location_is_quoted(client: FlaskClient, people: People) -> None:
    user_id = json_of(client.get("/api/v2/users/me", headers=bearer(people.alice)))["id"]

    response = post_secret(client, people.alice, name="db password")

    assert response.headers["Location"] == f"/api/v2/users/{user_id}/secrets/db%20password"
    followed = client.get(response.headers["Location"], headers=bearer(people.alice))
    assert followed.status_code == 200
    assert json_of(followed)["name"] == "db password"


def test_post_secret_optional_fields_empty(client: FlaskClient, people: People) -> None:
    body = json_of(post_secret(client, people.alice, name="token"))

    assert body["description"] == ""
    assert body["env_name"] == ""
    assert body["file_path"] == ""


def test_post_secret_encrypts_value(
    app: Flask, client: FlaskClient, engine: Engine, people: People
) -> None:
    post_secret(client, people.alice, name="db", value=PLAINTEXT)

    with Session(engine) as session:
        raw = session.scalars(select(UserSecret.value)).one()
    assert PLAINTEXT not in raw
    assert stored_values(app, engine, "alice") == {"db": PLAINTEXT}


def test_post_secret_invalid_lists_every_field(
    client: FlaskClient, engine: Engine, people: People
) -> None:
    response = client.post(
        SECRETS,
        json={
            "name": "a/b",
            "value": PLAINTEXT + "\0",
            "description": "d" * 1001,
            "env_name": "LD_PRELOAD",
            "file_path": "relative/" + PLAINTEXT,
        },
        headers=bearer(people.alice),
    )

    assert response.status_code == 400
    assert fields_of(response) == ["name", "value", "description", "env_name", "file_path"]
    assert PLAINTEXT not in response.get_data(as_text=True)
    assert audit_count(engine) == 0


def test_post_secret_missing_fields_listed(client: FlaskClient, people: People) -> None:
    response = client.post(SECRETS, json={"description": "x"}, headers=bearer(people.alice))

    assert response.status_code == 400
    assert fields_of(response) == ["name", "value"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": 5, "value": "v"}, "name", id="number-name"),
        pytest.param({"name": "n", "value": None}, "value", id="null-value"),
        pytest.param({"name": "n", "value": "v", "env_name": 1}, "env_name", id="number-env"),
        pytest.param({"name": "n", "value": "v", "file_path": None}, "file_path", id="null-path"),
        pytest.param({"name": "n", "value": "v", "description": True}, "description", id="bool"),
    ],
)
def test_post_secret_non_string_is_400(
    client: FlaskClient, people: People, body: dict[str, object], field: str
) -> None:
    response = client.post(SECRETS, json=body, headers=bearer(people.alice))

    assert response.status_code == 400
    assert json_of(response)["validations"] == [{"field": field, "detail": "must be a string"}]


def test_post_secret_unknown_field_is_400(client: FlaskClient, people: People) -> None:
    response = post_secret(client, people.alice, name="db", owner="bob")

    assert response.status_code == 400
    assert fields_of(response) == ["owner"]


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        pytest.param({"name": "db"}, {"name": "db"}, "name", id="name"),
        pytest.param(
            {"name": "a", "env_name": "DB"}, {"name": "b", "env_name": "DB"}, "env_name", id="env"
        ),
        pytest.param(
            {"name": "a", "file_path": "/x"},
            {"name": "b", "file_path": "/x"},
            "file_path",
            id="path",
        ),
    ],
)
def test_post_secret_duplicate_is_409(
    client: FlaskClient,
    engine: Engine,
    people: People,
    first: dict[str, str],
    second: dict[str, str],
    field: str,
) -> None:
    post_secret(client, people.alice, **first)

    response = post_secret(client, people.alice, **second)

    assert response.status_code == 409
    assert fields_of(response) == [field]
    assert audit_count(engine) == 1


def test_post_secret_not_json_is_415(client: FlaskClient, people: People) -> None:
    response = client.post(
        SECRETS,
        data="name=db",
        headers={**bearer(people.alice), "Content-Type": "text/plain"},
    )

    assert response.status_code == 415
    assert set(json_of(response)) == ERROR_KEYS


def test_post_secret_malformed_json_is_415(client: FlaskClient, people: People) -> None:
    response = client.post(
        SECRETS,
        data='{"name": "db", "value": ',
        headers={**bearer(people.alice), "Content-Type": "application/json"},
    )

    assert response.status_code == 415


def test_post_secret_array_body_is_400(client: FlaskClient, people: People) -> None:
    response = client.post(SECRETS, json=[{"name": "db"}], headers=bearer(people.alice))

    assert response.status_code == 400


def test_post_secret_oversized_body_is_413(
    app: Flask, client: FlaskClient, engine: Engine, people: People
) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]

    response = post_secret(client, people.alice, name="big", value="v" * limit)

    assert response.status_code == 413
    assert set(json_of(response)) == ERROR_KEYS
    assert audit_count(engine) == 0


def test_post_secret_value_over_64_kib_is_400(client: FlaskClient, people: People) -> None:
    response = post_secret(client, people.alice, name="big", value="v" * (64 * 1024 + 1))

    assert response.status_code == 400
    assert fields_of(response) == ["value"]


# --- read --------------------------------------------------------------------------


def test_list_secrets_sorted_metadata(client: FlaskClient, people: People) -> None:
    for name in ["b", "a", "C"]:
        post_secret(client, people.alice, name=name)

    response = client.get(SECRETS, headers=bearer(people.alice))

    body = json_of(response)
    assert response.status_code == 200
    assert [secret["name"] for secret in body] == ["C", "a", "b"]
    assert all(set(secret) == METADATA_KEYS for secret in body)
    assert PLAINTEXT not in response.get_data(as_text=True)


def test_list_secrets_empty_is_empty_array(client: FlaskClient, people: People) -> None:
    response = client.get(SECRETS, headers=bearer(people.alice))

    assert response.status_code == 200
    assert json_of(response) == []


def test_list_secrets_by_username_and_id(client: FlaskClient, people: People) -> None:
    post_secret(client, people.alice, name="db")
    user_id = json_of(client.get("/api/v2/users/me", headers=bearer(people.alice)))["id"]

    by_name = client.get("/api/v2/users/ALICE/secrets", headers=bearer(people.alice))
    by_id = client.get(f"/api/v2/users/{user_id}/secrets", headers=bearer(people.alice))

    assert [secret["name"] for secret in json_of(by_name)] == ["db"]
    assert [secret["name"] for secret in json_of(by_id)] == ["db"]


def test_list_secrets_decisions_independent_of_count(client: FlaskClient, people: People) -> None:
    post_secret(client, people.alice, name="first")
    with count_decisions() as one_secret:
        client.get(SECRETS, headers=bearer(people.alice))
    for index in range(5):
        post_secret(client, people.alice, name=f"more-{index}")

    with count_decisions() as six_secrets:
        response = client.get(SECRETS, headers=bearer(people.alice))

    assert len(json_of(response)) == 6
    # One decision reads the user named in the URL and one covers the whole list.
    assert six_secrets[0] == 2
    assert one_secret[0] == six_secrets[0]


def test_get_secret_returns_metadata_and_etag(client: FlaskClient, people: People) -> None:
    created = json_of(post_secret(client, people.alice, name="db", env_name="DB"))

    response = client.get(f"{SECRETS}/db", headers=bearer(people.alice))

    assert response.status_code == 200
    assert json_of(response) == created
    assert response.headers["ETag"] == '"1"'


def test_get_secret_percent_encoded_name(client: FlaskClient, people: People) -> None:
    post_secret(client, people.alice, name="db password")
    post_secret(client, people.alice, name="100%")

    spaced = client.get(f"{SECRETS}/db%20password", headers=bearer(people.alice))
    percent = client.get(f"{SECRETS}/100%25", headers=bearer(people.alice))

    assert json_of(spaced)["name"] == "db password"
    assert json_of(percent)["name"] == "100%"


@pytest.mark.parametrize(
    "path_name",
    [
        pytest.param("missing", id="unknown"),
        pytest.param("db%2Fpassword", id="encoded-slash"),
        pytest.param("%00", id="nul"),
        pytest.param("%FF", id="invalid-utf8"),
        pytest.param("x" * 65, id="too-long"),
        pytest.param("100%2525", id="double-encoded"),
    ],
)
def test_get_secret_unknown_is_404(client: FlaskClient, people: People, path_name: str) -> None:
    post_secret(client, people.alice, name="100%")

    response = client.get(f"{SECRETS}/{path_name}", headers=bearer(people.alice))

    assert response.status_code == 404
    assert set(json_of(response)) == ERROR_KEYS


def test_unknown_user_is_404(client: FlaskClient, people: People) -> None:
    response = client.get("/api/v2/users/nobody/secrets", headers=bearer(people.alice))

    assert response.status_code == 404
    assert json_of(response)["message"] == "User not found."


# --- update ------------------------------------------------------------------------


def patch_secret(
    client: FlaskClient, token: str, body: Any, if_match: str | None = None, name: str = "db"
) -> TestResponse:
    headers = bearer(token)
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.patch(f"{SECRETS}/{name}", json=body, headers=headers)


def test_patch_absent_fields_unchanged(client: FlaskClient, people: People) -> None:
    post_secret(client, people.alice, name="db", description="old", env_name="DB", file_path="/x")

    response = patch_secret(client, people.alice, {"description": "new"})

    body = json_of(response)
    assert response.status_code == 200
    assert body["description"] == "new"
    assert body["env_name"] == "DB"
    assert body["file_path"] == "/x"
    assert body["version"] == 2
    assert response.headers["ETag"] == '"2"'


def test_patch_empty_strings_clear_fields(client: FlaskClient, people: People) -> None:
    post_secret(client, people.alice, name="db", description="old", env_name="DB", file_path="/x")

    response = patch_secret(
        client, people.alice, {"description": "", "env_name": "", "file_path": ""}
    )

    body = json_of(response)
    assert body["description"] == ""
    assert body["env_name"] == ""
    assert body["file_path"] == ""


def test_patch_value_reencrypts(
    app: Flask, client: FlaskClient, engine: Engine, people: People
) -> None:
    post_secret(client, people.alice, name="db", value="first")

    response = patch_secret(client, people.alice, {"value": PLAINTEXT})

    assert response.status_code == 200
    assert PLAINTEXT not in response.get_data(as_text=True)
    assert stored_values(app, engine, "alice") == {"db": PLAINTEXT}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, [], id="no-field"),
        pytest.param({"name": "renamed"}, ["name"], id="name"),
        pytest.param({"value": ""}, ["value"], id="empty-value"),
        pytest.param({"value": None}, ["value"], id="null-value"),
        pytest.param({"env_name": "HOME", "file_path": "x"}, ["env_name", "file_path"], id="two"),
    ],
)
def test_patch_invalid_is_400(
    client: FlaskClient, engine: Engine, people: People, body: Any, fields: list[str]
) -> None:
    post_secret(client, people.alice, name="db")

    response = patch_secret(client, people.alice, body)

    assert response.status_code == 400
    assert fields_of(response) == fields
    assert audit_count(engine) == 1


def test_patch_duplicate_env_name_is_409(
    client: FlaskClient, engine: Engine, people: People
) -> None:
    post_secret(client, people.alice, name="a", env_name="DB")
    post_secret(client, people.alice, name="db")

    response = patch_secret(client, people.alice, {"env_name": "db"})
    duplicate = patch_secret(client, people.alice, {"env_name": "DB"})

    assert response.status_code == 200
    assert duplicate.status_code == 409
    assert fields_of(duplicate) == ["env_name"]
    assert audit_count(engine) == 3


def test_patch_missing_secret_is_404(client: FlaskClient, people: People) -> None:
    response = patch_secret(client, people.alice, {"description": "x"})

    assert response.status_code == 404


def test_patch_not_json_is_415(client: FlaskClient, people: People) -> None:
    post_secret(client, people.alice, name="db")

    response = client.patch(
        f"{SECRETS}/db",
        data="description=x",
        headers={**bearer(people.alice), "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        pytest.param('"1"', 200, id="current"),
        pytest.param("*", 200, id="any"),
        pytest.param(' "1" ', 200, id="spaces"),
        pytest.param('"2"', 412, id="future"),
        pytest.param('"0"', 412, id="zero"),
        pytest.param("1", 400, id="unquoted"),
        pytest.param('W/"1"', 400, id="weak"),
        pytest.param('"1", "2"', 400, id="list"),
        pytest.param('"one"', 400, id="not-a-number"),
        pytest.param('"99999999999"', 400, id="too-many-digits"),
        pytest.param('"2147483648"', 400, id="over-32-bits"),
        pytest.param("", 400, id="empty"),
    ],
)
def test_patch_if_match(
    client: FlaskClient, engine: Engine, people: People, if_match: str, status: int
) -> None:
    post_secret(client, people.alice, name="db")

    response = patch_secret(client, people.alice, {"description": "x"}, if_match=if_match)

    assert response.status_code == status
    assert audit_count(engine) == (2 if status == 200 else 1)


def test_patch_stale_if_match_is_412(client: FlaskClient, engine: Engine, people: People) -> None:
    post_secret(client, people.alice, name="db")
    patch_secret(client, people.alice, {"description": "first"}, if_match='"1"')

    response = patch_secret(client, people.alice, {"description": "second"}, if_match='"1"')

    assert response.status_code == 412
    assert set(json_of(response)) == ERROR_KEYS
    current = json_of(client.get(f"{SECRETS}/db", headers=bearer(people.alice)))
    assert current["description"] == "first"
    assert audit_count(engine) == 2


# --- delete ------------------------------------------------------------------------


def delete_secret(
    client: FlaskClient, token: str, if_match: str | None = None, name: str = "db"
) -> TestResponse:
    headers = bearer(token)
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.delete(f"{SECRETS}/{name}", headers=headers)


def test_delete_secret_is_204(client: FlaskClient, engine: Engine, people: People) -> None:
    post_secret(client, people.alice, name="db")

    response = delete_secret(client, people.alice)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert client.get(f"{SECRETS}/db", headers=bearer(people.alice)).status_code == 404
    assert audit_count(engine) == 2


def test_delete_secret_twice_is_404(client: FlaskClient, engine: Engine, people: People) -> None:
    post_secret(client, people.alice, name="db")
    delete_secret(client, people.alice)

    response = delete_secret(client, people.alice)

    assert response.status_code == 404
    assert audit_count(engine) == 2


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        pytest.param('"1"', 204, id="current"),
        pytest.param("*", 204, id="any"),
        pytest.param('"7"', 412, id="stale"),
        pytest.param("W/1", 400, id="malformed"),
    ],
)
def test_delete_if_match(
    client: FlaskClient, engine: Engine, people: People, if_match: str, status: int
) -> None:
    post_secret(client, people.alice, name="db")

    response = delete_secret(client, people.alice, if_match=if_match)

    assert response.status_code == status
    assert audit_count(engine) == (2 if status == 204 else 1)


def test_delete_missing_with_if_match_is_404(client: FlaskClient, people: People) -> None:
    response = delete_secret(client, people.alice, if_match='"1"')

    assert response.status_code == 404


# --- access ------------------------------------------------------------------------

# Route name, method and the path after /api/v2/users/alice/secrets.
ROUTES = [
    pytest.param("list", "GET", "", id="list"),
    pytest.param("create", "POST", "", id="create"),
    pytest.param("get", "GET", "/db", id="get"),
    pytest.param("update", "PATCH", "/db", id="update"),
    pytest.param("delete", "DELETE", "/db", id="delete"),
]


def call(client: FlaskClient, method: str, path: str, headers: dict[str, str]) -> TestResponse:
    body = None
    if method == "POST":
        body = {"name": "planted", "value": PLAINTEXT}
    if method == "PATCH":
        body = {"description": "changed"}
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize(("route", "method", "suffix"), ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer garbage"}, id="malformed"),
    ],
)
def test_secrets_without_token_is_401(
    client: FlaskClient,
    people: People,
    route: str,
    method: str,
    suffix: str,
    headers: dict[str, str],
) -> None:
    response = call(client, method, f"/api/v2/users/alice/secrets{suffix}", headers)

    assert response.status_code == 401
    assert set(json_of(response)) == ERROR_KEYS


# Expected status for each route when a non-owner calls it on alice's secrets: 403 on the
# collection for callers that may read alice, 404 for everything else.
ACCESS = [
    ("site_owner", {"list": 403, "create": 403, "get": 404, "update": 404, "delete": 404}),
    ("auditor", {"list": 403, "create": 403, "get": 404, "update": 404, "delete": 404}),
    ("user_admin", {"list": 403, "create": 403, "get": 404, "update": 404, "delete": 404}),
    ("bob", {"list": 404, "create": 404, "get": 404, "update": 404, "delete": 404}),
    ("org_admin", {"list": 404, "create": 404, "get": 404, "update": 404, "delete": 404}),
]


@pytest.mark.parametrize(("route", "method", "suffix"), ROUTES)
@pytest.mark.parametrize(("caller", "expected"), ACCESS, ids=[caller for caller, _ in ACCESS])
def test_non_owner_cannot_reach_secrets(
    client: FlaskClient,
    engine: Engine,
    people: People,
    caller: str,
    expected: dict[str, int],
    route: str,
    method: str,
    suffix: str,
) -> None:
    post_secret(client, people.alice, name="db")
    token = getattr(people, caller)

    response = call(client, method, f"/api/v2/users/alice/secrets{suffix}", bearer(token))

    assert response.status_code == expected[route]
    assert set(json_of(response)) == ERROR_KEYS
    assert PLAINTEXT not in response.get_data(as_text=True)
    assert audit_count(engine) == 1
    owner_view = json_of(client.get(f"{SECRETS}/db", headers=bearer(people.alice)))
    assert owner_view["version"] == 1


def test_site_owner_manages_own_secrets(client: FlaskClient, people: People) -> None:
    created = post_secret(client, people.site_owner, name="mine")
    listed = client.get(SECRETS, headers=bearer(people.site_owner))
    deleted = delete_secret(client, people.site_owner, name="mine")

    assert created.status_code == 201
    assert [secret["name"] for secret in json_of(listed)] == ["mine"]
    assert deleted.status_code == 204


# --- audit -------------------------------------------------------------------------


def test_each_mutation_writes_one_audit_row(
    client: FlaskClient, engine: Engine, people: People
) -> None:
    counts = [audit_count(engine)]

    post_secret(client, people.alice, name="db")
    counts.append(audit_count(engine))
    patch_secret(client, people.alice, {"value": "new"})
    counts.append(audit_count(engine))
    client.get(f"{SECRETS}/db", headers=bearer(people.alice))
    client.get(SECRETS, headers=bearer(people.alice))
    counts.append(audit_count(engine))
    delete_secret(client, people.alice)
    counts.append(audit_count(engine))

    assert counts == [0, 1, 2, 2, 3]


# --- robustness --------------------------------------------------------------------


def test_post_secret_lone_surrogates_are_400(client: FlaskClient, people: People) -> None:
    raw = '{"name": "a\\ud800", "value": "b\\udfff", "env_name": "", "file_path": "/\\udc80"}'

    response = client.post(
        SECRETS,
        data=raw,
        headers={**bearer(people.alice), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert fields_of(response) == ["name", "value", "file_path"]


JSON_SCALARS = st.one_of(
    st.text(max_size=80),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "value", "description", "env_name", "file_path"]),
        JSON_SCALARS,
    )
)
def test_post_secret_never_server_error(
    client: FlaskClient, people: People, body: dict[str, object]
) -> None:
    response = client.post(SECRETS, json=body, headers=bearer(people.alice))

    assert response.status_code in {201, 400, 409}
