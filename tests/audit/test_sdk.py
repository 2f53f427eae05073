"""Client.list_audit_logs against the app in-process, through httpx's WSGI transport."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.audit.recorder import AuditContext, record_change, snapshot
from app.sdk import Client, Forbidden, ValidationError
from app.sdk.models import AuditLog
from app.users.models import User
from tests.audit.conftest import Person
from tests.audit.helpers import BASE_TIME, insert_audit_row
from tests.support.factories import make_user


def sdk_client(app: Flask, person: Person) -> Client:
    return Client("http://testserver", person.token, transport=httpx.WSGITransport(app=app))


def test_sdk_audit_logs_parses_row(app: Flask, engine: Engine, people: dict[str, Person]) -> None:
    owner = people["owner"]
    context = AuditContext(user_id=owner.id, api_key_id="abcdefghij", request_id="req-1")
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session, "bob")
        row = record_change(
            session,
            context,
            action="create",
            model=User,
            resource_id=str(user.id),
            target="bob",
            owner_id=user.id,
            new=snapshot(user),
        )
        session.commit()

    with sdk_client(app, people["auditor"]) as client:
        page = client.list_audit_logs()

    assert page.next_after is None
    assert page.audit_logs == [
        AuditLog(
            id=row.id,
            time=row.time,
            user_id=owner.id,
            username=owner.username,
            api_key_id="abcdefghij",
            ip="",
            user_agent="",
            request_id="req-1",
            action="create",
            resource_type="user",
            resource_id=str(user.id),
            resource_target="bob",
            resource_owner_id=user.id,
            organization_id=None,
            status_code=201,
            diff=row.diff,
            additional_fields={},
        )
    ]
    assert page.audit_logs[0].to_json()["id"] == str(row.id)


def test_sdk_audit_logs_follows_cursor(
    app: Flask, engine: Engine, people: dict[str, Person]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        rows = [
            insert_audit_row(session, time=BASE_TIME + dt.timedelta(seconds=i)) for i in range(5)
        ]
        session.commit()
    seen: list[uuid.UUID] = []

    with sdk_client(app, people["auditor"]) as client:
        page = client.list_audit_logs(limit=2)
        seen += [log.id for log in page.audit_logs]
        while page.next_after is not None:
            page = client.list_audit_logs(limit=2, after=page.next_after)
            seen += [log.id for log in page.audit_logs]

    assert seen == [row.id for row in reversed(rows)]


def test_sdk_audit_logs_accepts_aware_datetimes(
    app: Flask, engine: Engine, people: dict[str, Person]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        rows = [
            insert_audit_row(session, time=BASE_TIME + dt.timedelta(seconds=i)) for i in range(3)
        ]
        session.commit()
    plus_two = dt.timezone(dt.timedelta(hours=2))

    with sdk_client(app, people["auditor"]) as client:
        page = client.list_audit_logs(
            since=(BASE_TIME + dt.timedelta(seconds=1)).astimezone(plus_two),
            until="2026-03-01T12:00:02Z",
        )

    assert [log.id for log in page.audit_logs] == [rows[1].id]


def test_sdk_audit_logs_rejects_naive_datetime() -> None:
    def fail_on_request(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the request must not be sent")

    client = Client("http://testserver", "token", transport=httpx.MockTransport(fail_on_request))

    with pytest.raises(ValidationError) as caught:
        client.list_audit_logs(since=dt.datetime(2026, 3, 1, 12, 0))

    assert [error.field for error in caught.value.validations] == ["since"]


def test_sdk_audit_logs_member_forbidden(app: Flask, people: dict[str, Person]) -> None:
    with sdk_client(app, people["member"]) as client, pytest.raises(Forbidden):
        client.list_audit_logs()


def test_sdk_audit_logs_bad_limit_names_field(app: Flask, people: dict[str, Person]) -> None:
    with sdk_client(app, people["owner"]) as client, pytest.raises(ValidationError) as caught:
        client.list_audit_logs(limit=0)

    assert [error.field for error in caught.value.validations] == ["limit"]
