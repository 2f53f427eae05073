"""GET /api/v2/audit-logs: who may read it, filters, keyset pagination and bad parameters."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.audit import store
from app.audit.query import MAX_LIMIT, AuditLogQuery
from app.audit.recorder import AuditContext, record_change, snapshot
from app.auth.tokens import load_actor
from app.authz import count_decisions
from app.users.models import User
from tests.audit.conftest import Person
from tests.audit.helpers import BASE_TIME, insert_audit_row
from tests.support.factories import bearer, make_user

URL = "/api/v2/audit-logs"
SECOND = dt.timedelta(seconds=1)


def get_page(client: FlaskClient, token: str, **params: Any) -> dict[str, Any]:
    response = client.get(URL, query_string=params, headers=bearer(token))
    assert response.status_code == 200, response.json
    body = response.json
    assert isinstance(body, dict)
    return body


def ids_of(body: dict[str, Any]) -> list[str]:
    return [row["id"] for row in body["audit_logs"]]


def read_all_pages(
    client: FlaskClient, token: str, after: str | None = None, **params: Any
) -> list[list[str]]:
    """Follow next_after from `after` (or the first page) to the last; return each page's ids."""
    pages: list[list[str]] = []
    while True:
        extra = {} if after is None else {"after": after}
        body = get_page(client, token, **params, **extra)
        pages.append(ids_of(body))
        after = body["next_after"]
        if after is None:
            return pages
        assert len(pages) < 100, "pagination did not end"


@pytest.mark.parametrize("role", ["user-admin", "member", "org-admin", "org-member"])
def test_audit_api_other_roles_get_403(
    client: FlaskClient, people: dict[str, Person], role: str
) -> None:
    response = client.get(URL, headers=bearer(people[role].token))

    assert response.status_code == 403
    assert response.json is not None
    assert set(response.json) == {"message", "detail", "validations"}


@pytest.mark.parametrize("role", ["owner", "auditor"])
def test_audit_api_readers_get_rows(
    client: FlaskClient, engine: Engine, people: dict[str, Person], role: str
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        insert_audit_row(session)
        session.commit()

    body = get_page(client, people[role].token)

    assert set(body) == {"audit_logs", "next_after"}
    assert len(body["audit_logs"]) == 1
    assert body["next_after"] is None


def test_audit_api_without_token_is_401(client: FlaskClient) -> None:
    response = client.get(URL)

    assert response.status_code == 401


def test_audit_api_post_is_405(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.post(URL, headers=bearer(people["owner"].token))

    assert response.status_code == 405
    assert response.is_json


def test_audit_api_row_has_every_field(
    client: FlaskClient, engine: Engine, people: dict[str, Person]
) -> None:
    owner = people["owner"]
    context = AuditContext(
        user_id=owner.id,
        api_key_id="abcdefghij",
        ip="192.0.2.7",
        user_agent="agent/1.0",
        request_id="req-1",
    )
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session, "bob", email="bob@example.com")
        row = record_change(
            session,
            context,
            action="create",
            model=User,
            resource_id=str(user.id),
            target="bob",
            owner_id=user.id,
            new=snapshot(user),
            additional_fields={"note": "x"},
        )
        session.commit()

    body = get_page(client, owner.token)

    assert body["audit_logs"] == [
        {
            "id": str(row.id),
            "time": row.time.isoformat(),
            "user_id": str(owner.id),
            "username": owner.username,
            "api_key_id": "abcdefghij",
            "ip": "192.0.2.7",
            "user_agent": "agent/1.0",
            "request_id": "req-1",
            "action": "create",
            "resource_type": "user",
            "resource_id": str(user.id),
            "resource_target": "bob",
            "resource_owner_id": str(user.id),
            "organization_id": None,
            "status_code": 201,
            "diff": {
                "id": {"old": None, "new": str(user.id)},
                "username": {"old": None, "new": "bob"},
                "email": {"old": None, "new": "bob@example.com"},
                "status": {"old": None, "new": "active"},
            },
            "additional_fields": {"note": "x"},
        }
    ]


def test_audit_api_deleted_actor_has_null_username(
    client: FlaskClient, engine: Engine, people: dict[str, Person]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        insert_audit_row(session, user_id=uuid.uuid4())
        session.commit()

    body = get_page(client, people["auditor"].token)

    assert body["audit_logs"][0]["username"] is None


def test_audit_api_lists_newest_first(
    client: FlaskClient, engine: Engine, people: dict[str, Person]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        rows = [insert_audit_row(session, time=BASE_TIME + i * SECOND) for i in (2, 0, 1)]
        session.commit()

    body = get_page(client, people["owner"].token)

    assert ids_of(body) == [str(rows[0].id), str(rows[2].id), str(rows[1].id)]


@pytest.fixture
def filter_rows(engine: Engine, people: dict[str, Person]) -> dict[str, uuid.UUID]:
    """Insert rows that the filters select differently; return their ids by a descriptive key."""
    alice, bob = people["member"], people["org-member"]
    deleted_user_id = uuid.uuid4()
    with Session(engine, expire_on_commit=False) as session:
        rows = {
            "alice-writes-own-secret": insert_audit_row(
                session,
                time=BASE_TIME,
                user_id=alice.id,
                owner_id=alice.id,
                resource_type="user_secret",
                action="create",
            ),
            "alice-deletes-own-secret": insert_audit_row(
                session,
                time=BASE_TIME + SECOND,
                user_id=alice.id,
                owner_id=alice.id,
                resource_type="user_secret",
                action="delete",
            ),
            "bob-updates-alice": insert_audit_row(
                session,
                time=BASE_TIME + 2 * SECOND,
                user_id=bob.id,
                owner_id=alice.id,
                resource_type="user",
                action="write",
            ),
            "deleted-user-creates-key": insert_audit_row(
                session,
                time=BASE_TIME + 3 * SECOND,
                user_id=deleted_user_id,
                owner_id=deleted_user_id,
                resource_type="api_key",
                action="create",
            ),
            "cli-creates-bob": insert_audit_row(
                session,
                time=BASE_TIME + 4 * SECOND,
                owner_id=bob.id,
                resource_type="user",
                action="create",
            ),
        }
        session.commit()
    ids = {key: row.id for key, row in rows.items()}
    ids["deleted-user"] = deleted_user_id
    return ids


def keys_for(body: dict[str, Any], ids: dict[str, uuid.UUID]) -> set[str]:
    names = {str(value): key for key, value in ids.items()}
    return {names[row_id] for row_id in ids_of(body)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"actor": "member-user"},
            {"alice-writes-own-secret", "alice-deletes-own-secret"},
            id="actor-username",
        ),
        pytest.param(
            {"actor": "MEMBER-USER"},
            {"alice-writes-own-secret", "alice-deletes-own-secret"},
            id="actor-username-any-case",
        ),
        pytest.param(
            {"target_user": "member-user"},
            {"alice-writes-own-secret", "alice-deletes-own-secret", "bob-updates-alice"},
            id="target-user-username",
        ),
        pytest.param(
            {"resource_type": "api_key"}, {"deleted-user-creates-key"}, id="resource-type"
        ),
        pytest.param(
            {"action": "create"},
            {"alice-writes-own-secret", "deleted-user-creates-key", "cli-creates-bob"},
            id="action",
        ),
        pytest.param(
            {"since": "2026-03-01T12:00:02Z"},
            {"bob-updates-alice", "deleted-user-creates-key", "cli-creates-bob"},
            id="since-inclusive",
        ),
        pytest.param(
            {"until": "2026-03-01T12:00:02Z"},
            {"alice-writes-own-secret", "alice-deletes-own-secret"},
            id="until-exclusive",
        ),
        pytest.param(
            {"since": "2026-03-01T13:00:01+01:00", "until": "2026-03-01T07:00:03-05:00"},
            {"alice-deletes-own-secret", "bob-updates-alice"},
            id="since-until-offsets",
        ),
        pytest.param(
            {"target_user": "member-user", "action": "delete", "resource_type": "user_secret"},
            {"alice-deletes-own-secret"},
            id="combined",
        ),
        pytest.param({"actor": "owner-user"}, set(), id="actor-without-rows"),
    ],
)
def test_audit_api_filters_select_rows(
    client: FlaskClient,
    people: dict[str, Person],
    filter_rows: dict[str, uuid.UUID],
    params: dict[str, str],
    expected: set[str],
) -> None:
    body = get_page(client, people["auditor"].token, **params)

    assert keys_for(body, filter_rows) == expected


def test_audit_api_filter_actor_by_uuid(
    client: FlaskClient, people: dict[str, Person], filter_rows: dict[str, uuid.UUID]
) -> None:
    body = get_page(client, people["auditor"].token, actor=str(people["org-member"].id))

    assert keys_for(body, filter_rows) == {"bob-updates-alice"}


def test_audit_api_filter_deleted_user_by_uuid(
    client: FlaskClient, people: dict[str, Person], filter_rows: dict[str, uuid.UUID]
) -> None:
    deleted_user_id = str(filter_rows["deleted-user"])

    by_actor = get_page(client, people["auditor"].token, actor=deleted_user_id)
    by_target = get_page(client, people["auditor"].token, target_user=deleted_user_id)

    assert keys_for(by_actor, filter_rows) == {"deleted-user-creates-key"}
    assert keys_for(by_target, filter_rows) == {"deleted-user-creates-key"}


def test_audit_api_filter_actor_me(
    client: FlaskClient, engine: Engine, people: dict[str, Person]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        mine = insert_audit_row(session, user_id=people["owner"].id)
        insert_audit_row(session, user_id=people["auditor"].id)
        session.commit()

    body = get_page(client, people["owner"].token, actor="me")

    assert ids_of(body) == [str(mine.id)]


@pytest.mark.parametrize("parameter", ["actor", "target_user"])
def test_audit_api_unknown_username_is_400(
    client: FlaskClient, people: dict[str, Person], parameter: str
) -> None:
    response = client.get(
        URL, query_string={parameter: "nobody-here"}, headers=bearer(people["owner"].token)
    )

    assert response.status_code == 400
    assert response.json is not None
    assert [v["field"] for v in response.json["validations"]] == [parameter]
    assert "nobody-here" not in response.get_data(as_text=True)


def test_audit_api_unknown_username_hidden_from_member(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    response = client.get(
        URL, query_string={"actor": "nobody-here"}, headers=bearer(people["member"].token)
    )

    assert response.status_code == 403


@pytest.fixture
def many_rows(engine: Engine) -> list[uuid.UUID]:
    """23 rows in seven groups that share a time, so ties are broken by id; newest first."""
    with Session(engine, expire_on_commit=False) as session:
        rows = [
            insert_audit_row(session, time=BASE_TIME + (i // 4) * SECOND, action="write")
            for i in range(23)
        ]
        session.commit()
    ordered = sorted(rows, key=lambda row: (row.time, row.id), reverse=True)
    return [row.id for row in ordered]


@pytest.mark.parametrize("limit", [1, 3, 4, 5, 22, 23, 24])
def test_audit_api_pages_cover_rows_once(
    client: FlaskClient, people: dict[str, Person], many_rows: list[uuid.UUID], limit: int
) -> None:
    pages = read_all_pages(client, people["auditor"].token, limit=limit)
    seen = [row_id for page in pages for row_id in page]

    assert seen == [str(row_id) for row_id in many_rows]
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit


def test_audit_api_exact_last_page_has_no_cursor(
    client: FlaskClient, people: dict[str, Person], many_rows: list[uuid.UUID]
) -> None:
    body = get_page(client, people["auditor"].token, limit=len(many_rows))

    assert len(body["audit_logs"]) == len(many_rows)
    assert body["next_after"] is None


def test_audit_api_pages_keep_filters(
    client: FlaskClient, engine: Engine, people: dict[str, Person], many_rows: list[uuid.UUID]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        deletes = [
            insert_audit_row(session, time=BASE_TIME + i * SECOND, action="delete")
            for i in range(5)
        ]
        session.commit()
    expected = [str(row.id) for row in sorted(deletes, key=lambda r: (r.time, r.id), reverse=True)]

    pages = read_all_pages(client, people["auditor"].token, limit=2, action="delete")

    assert [row_id for page in pages for row_id in page] == expected


def test_audit_api_new_rows_do_not_shift_pages(
    client: FlaskClient, engine: Engine, people: dict[str, Person], many_rows: list[uuid.UUID]
) -> None:
    token = people["auditor"].token
    first = get_page(client, token, limit=10)
    with Session(engine, expire_on_commit=False) as session:
        insert_audit_row(session, time=BASE_TIME + dt.timedelta(hours=1))
        session.commit()

    rest = read_all_pages(client, token, limit=10, after=first["next_after"])
    seen = ids_of(first) + [row_id for page in rest for row_id in page]

    assert seen == [str(row_id) for row_id in many_rows]


def test_audit_api_default_limit_is_100(
    client: FlaskClient, engine: Engine, people: dict[str, Person]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        for i in range(101):
            insert_audit_row(session, time=BASE_TIME + i * SECOND)
        session.commit()

    body = get_page(client, people["owner"].token)

    assert len(body["audit_logs"]) == 100
    assert body["next_after"] is not None


def test_audit_api_accepts_max_limit(client: FlaskClient, people: dict[str, Person]) -> None:
    body = get_page(client, people["owner"].token, limit=MAX_LIMIT)

    assert body["audit_logs"] == []


@pytest.mark.parametrize(
    ("query_string", "field"),
    [
        pytest.param("limit=0", "limit", id="limit-zero"),
        pytest.param("limit=1001", "limit", id="limit-over-max"),
        pytest.param("limit=-1", "limit", id="limit-negative"),
        pytest.param("limit=1.5", "limit", id="limit-fraction"),
        pytest.param("limit=ten", "limit", id="limit-word"),
        pytest.param("limit=", "limit", id="limit-empty"),
        pytest.param("limit=%EF%BC%95", "limit", id="limit-fullwidth-digit"),
        pytest.param("action=read", "action", id="action-read"),
        pytest.param("action=CREATE", "action", id="action-case"),
        pytest.param("resource_type=secret", "resource_type", id="resource-type-unknown"),
        pytest.param("since=yesterday", "since", id="since-word"),
        pytest.param("since=2026-03-01T12:00:00", "since", id="since-without-offset"),
        pytest.param("since=2026-03-01", "since", id="since-date-only"),
        pytest.param("since=2026-02-30T12:00:00Z", "since", id="since-no-such-day"),
        pytest.param("since=2026-03-01T12:00:00%2B24:00", "since", id="since-offset-24h"),
        pytest.param("since=0001-01-01T00:00:00%2B01:00", "since", id="since-before-year-1"),
        pytest.param("until=2026-03-01T12:00:00Z%00", "until", id="until-nul"),
        pytest.param(
            "since=2026-03-01T12:00:00Z&until=2026-03-01T12:00:00Z", "until", id="until-not-later"
        ),
        pytest.param("actor=%00", "actor", id="actor-nul"),
        pytest.param("actor=" + "a" * 300, "actor", id="actor-too-long"),
        pytest.param("actor=", "actor", id="actor-empty"),
        pytest.param("target_user=a%20b", "target_user", id="target-user-space"),
        pytest.param("after=bogus-cursor", "after", id="after-garbage"),
        pytest.param("after=%00", "after", id="after-nul"),
        pytest.param("after=" + "A" * 500, "after", id="after-too-long"),
        pytest.param("after=MTIzOnh5eg", "after", id="after-wrong-content"),
        pytest.param("action=create&action=delete", "action", id="repeated"),
        pytest.param("page=2", "page", id="unknown-parameter"),
        pytest.param("p%00ge=2", "<unrecognized parameter name>", id="unknown-parameter-with-nul"),
    ],
)
def test_audit_api_bad_parameter_is_400(
    client: FlaskClient, people: dict[str, Person], query_string: str, field: str
) -> None:
    response = client.get(f"{URL}?{query_string}", headers=bearer(people["owner"].token))

    assert response.status_code == 400
    assert response.json is not None
    assert response.json["message"] == "Invalid query parameters."
    assert [v["field"] for v in response.json["validations"]] == [field]


def test_audit_api_reports_every_bad_parameter(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    response = client.get(
        URL,
        query_string={"limit": "0", "action": "read", "since": "then"},
        headers=bearer(people["owner"].token),
    )

    assert response.status_code == 400
    assert response.json is not None
    fields = {v["field"] for v in response.json["validations"]}
    assert fields == {"limit", "action", "since"}


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"action": "zzq-bogus-value"}, id="action"),
        pytest.param({"since": "zzq-bogus-value"}, id="since"),
        pytest.param({"after": "zzq-bogus-value"}, id="after"),
        pytest.param({"actor": "zzq-bogus-value"}, id="actor"),
    ],
)
def test_audit_api_error_omits_value(
    client: FlaskClient, people: dict[str, Person], params: dict[str, str]
) -> None:
    response = client.get(URL, query_string=params, headers=bearer(people["owner"].token))

    assert response.status_code == 400
    assert "zzq-bogus-value" not in response.get_data(as_text=True)


def test_audit_list_makes_one_decision(engine: Engine, people: dict[str, Person]) -> None:
    with Session(engine, expire_on_commit=False) as session:
        insert_audit_row(session, user_id=people["member"].id)
        insert_audit_row(session, user_id=people["owner"].id)
        actor_user = session.scalars(select(User).where(User.id == people["auditor"].id)).one()
        actor = load_actor(session, actor_user)

        with count_decisions() as decisions:
            page = store.list_audit_logs(session, actor, AuditLogQuery(actor="member-user"))

    assert len(page.entries) == 1
    assert decisions[0] == 1
