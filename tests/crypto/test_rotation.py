"""Key rotation on both databases: completeness, resumption, concurrent writes, failures."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.crypto.cipher import secret_associated_data
from app.crypto.errors import RotationStoppedError
from app.crypto.store import (
    RotationReport,
    check_and_record_keys,
    revoke_key,
    rotate_row,
    rotate_values,
)
from app.secrets import store as secrets_store
from app.secrets.models import UserSecret
from tests.crypto.rows import (
    DIGEST_1,
    DIGEST_2,
    KEY_1,
    KEY_2,
    LOCK_WAIT_TIMEOUT_SECONDS,
    SecretOwner,
    audit_context,
    create_user,
    insert_secret,
    keyring,
    read_value,
    scalar,
    set_columns,
    signal_first_statement,
    stored_value,
    wait_until_blocked,
)

OLD = keyring(KEY_1)
NEW = keyring(KEY_2)
ROTATING = keyring(KEY_2, KEY_1)


def seed(
    engine: Engine, owner: SecretOwner, encrypted: int, plaintext: int
) -> dict[uuid.UUID, str]:
    """Insert rows on KEY_1 and plaintext rows; return their values by id."""
    values: dict[uuid.UUID, str] = {}
    for index in range(encrypted):
        value = f"encrypted value {index}"
        values[insert_secret(engine, OLD, owner.id, value)] = value
    for index in range(plaintext):
        value = f"plaintext value {index}"
        values[insert_secret(engine, None, owner.id, value)] = value
    return values


def rows_on(engine: Engine, digest: str | None) -> int:
    if digest is None:
        return int(scalar(engine, "SELECT COUNT(*) FROM user_secrets WHERE value_key_id IS NULL"))
    count = scalar(
        engine, "SELECT COUNT(*) FROM user_secrets WHERE value_key_id = :digest", digest=digest
    )
    return int(count)


def ordered_ids(engine: Engine) -> list[uuid.UUID]:
    with Session(engine) as session, session.begin():
        return list(session.scalars(select(UserSecret.id).order_by(UserSecret.id)))


def test_rotation_moves_every_row_to_new_key(engine: Engine) -> None:
    owner = create_user(engine)
    values = seed(engine, owner, encrypted=5, plaintext=2)

    report = rotate_values(engine, ROTATING, batch_size=3)

    assert report.reencrypted == 5
    assert report.encrypted == 2
    assert report.remaining == 0
    assert rows_on(engine, DIGEST_1) == 0
    assert rows_on(engine, None) == 0
    assert rows_on(engine, DIGEST_2) == 7
    for secret_id, value in values.items():
        assert read_value(engine, NEW, secret_id) == value


def test_rotation_then_only_new_key_passes_check(engine: Engine) -> None:
    owner = create_user(engine)
    seed(engine, owner, encrypted=2, plaintext=1)
    with Session(engine) as session, session.begin():
        check_and_record_keys(session, ROTATING)
    rotate_values(engine, ROTATING)
    with Session(engine) as session, session.begin():
        revoke_key(session, ROTATING, DIGEST_1)

    with Session(engine) as session, session.begin():
        added = check_and_record_keys(session, NEW)

    assert added == []


def test_rotation_keeps_version_and_updated_at(engine: Engine) -> None:
    owner = create_user(engine)
    secret_id = insert_secret(engine, OLD, owner.id, "value")
    set_columns(engine, secret_id, version=7)
    with Session(engine) as session, session.begin():
        before = session.execute(
            select(UserSecret.version, UserSecret.updated_at).where(UserSecret.id == secret_id)
        ).one()

    rotate_values(engine, ROTATING)

    with Session(engine) as session, session.begin():
        after = session.execute(
            select(UserSecret.version, UserSecret.updated_at).where(UserSecret.id == secret_id)
        ).one()
    assert after.version == 7
    assert after.updated_at == before.updated_at


def test_rotation_on_primary_key_does_nothing(engine: Engine) -> None:
    owner = create_user(engine)
    secret_id = insert_secret(engine, NEW, owner.id, "value")
    before = stored_value(engine, secret_id)

    report = rotate_values(engine, ROTATING)

    assert report == RotationReport(batches=0)
    assert stored_value(engine, secret_id) == before


def test_rotation_interrupted_run_resumes(engine: Engine) -> None:
    owner = create_user(engine)
    values = seed(engine, owner, encrypted=4, plaintext=1)

    first = rotate_values(engine, ROTATING, batch_size=2, max_batches=1)

    assert first.batches == 1
    assert first.stopped_early
    assert first.reencrypted + first.encrypted == 2
    assert first.remaining == 3

    second = rotate_values(engine, ROTATING, batch_size=2)

    assert not second.stopped_early
    assert second.reencrypted + second.encrypted == 3
    assert second.remaining == 0
    for secret_id, value in values.items():
        assert read_value(engine, NEW, secret_id) == value


def test_rotation_writes_during_run_end_on_new_key(engine: Engine) -> None:
    owner = create_user(engine)
    with Session(engine) as session, session.begin():
        for index in range(6):
            secrets_store.create_secret(
                session,
                owner.actor,
                audit_context(owner.actor),
                OLD,
                owner.id,
                {"name": f"old-{index}", "value": f"old value {index}"},
            )
    created: list[uuid.UUID] = []

    # After each batch a server already configured with the new primary key creates
    # one secret and changes the value of the secret with the highest id. The first
    # change comes before the pass reaches that row, so the pass must not undo it.
    def write_with_new_primary(report: RotationReport) -> None:
        with Session(engine) as session, session.begin():
            metadata = secrets_store.create_secret(
                session,
                owner.actor,
                audit_context(owner.actor),
                ROTATING,
                owner.id,
                {"name": f"new-{report.batches}", "value": f"new value {report.batches}"},
            )
            secrets_store.update_secret(
                session,
                owner.actor,
                audit_context(owner.actor),
                ROTATING,
                owner.id,
                last_name,
                {"value": f"updated in batch {report.batches}"},
            )
        created.append(metadata.id)

    last_name = _name_of_last_row(engine)
    report = rotate_values(engine, ROTATING, batch_size=2, after_batch=write_with_new_primary)

    assert report.remaining == 0
    assert rows_on(engine, DIGEST_1) == 0
    assert len(created) == report.batches
    assert report.batches >= 2
    with Session(engine) as session, session.begin():
        secrets = secrets_store.list_secrets_with_values(session, owner.actor, NEW, owner.id)
    by_name = {secret.metadata.name: secret.value for secret in secrets}
    assert by_name[last_name] == f"updated in batch {report.batches}"
    for batch in range(1, report.batches + 1):
        assert by_name[f"new-{batch}"] == f"new value {batch}"
    assert len(by_name) == 6 + report.batches


def _name_of_last_row(engine: Engine) -> str:
    with Session(engine) as session, session.begin():
        name = session.scalars(
            select(UserSecret.name).order_by(UserSecret.id.desc()).limit(1)
        ).one()
    return str(name)


def test_rotate_row_skips_concurrently_changed_row(engine: Engine) -> None:
    owner = create_user(engine)
    secret_id = insert_secret(engine, OLD, owner.id, "before")
    stale = stored_value(engine, secret_id)
    newer, digest = NEW.encrypt("written meanwhile", secret_associated_data(secret_id, owner.id))
    set_columns(engine, secret_id, value=newer, value_key_id=digest, version=stale.version + 1)

    with Session(engine) as session, session.begin():
        updated = rotate_row(session, ROTATING, stale)

    assert not updated
    assert stored_value(engine, secret_id).value == newer
    assert read_value(engine, NEW, secret_id) == "written meanwhile"


def test_rotate_row_skips_same_version_new_ciphertext(engine: Engine) -> None:
    owner = create_user(engine)
    secret_id = insert_secret(engine, OLD, owner.id, "before")
    stale = stored_value(engine, secret_id)
    newer, digest = OLD.encrypt("written meanwhile", secret_associated_data(secret_id, owner.id))
    set_columns(engine, secret_id, value=newer, value_key_id=digest)

    with Session(engine) as session, session.begin():
        updated = rotate_row(session, ROTATING, stale)

    assert not updated
    assert read_value(engine, OLD, secret_id) == "written meanwhile"


def test_rotate_row_skips_deleted_row(engine: Engine) -> None:
    owner = create_user(engine)
    secret_id = insert_secret(engine, OLD, owner.id, "before")
    stale = stored_value(engine, secret_id)
    with Session(engine) as session, session.begin():
        session.delete(session.get_one(UserSecret, secret_id))

    with Session(engine) as session, session.begin():
        updated = rotate_row(session, ROTATING, stale)

    assert not updated


def test_rotation_stops_at_undecryptable_row(engine: Engine) -> None:
    owner = create_user(engine)
    values = seed(engine, owner, encrypted=5, plaintext=0)
    ids = ordered_ids(engine)
    broken = ids[2]
    other = create_user(engine)
    foreign, _ = OLD.encrypt("canary-7d41", secret_associated_data(broken, other.id))
    set_columns(engine, broken, value=foreign)

    with pytest.raises(RotationStoppedError) as raised:
        rotate_values(engine, ROTATING, batch_size=10)

    assert raised.value.secret_id == broken
    assert str(broken) in str(raised.value)
    assert "canary-7d41" not in str(raised.value)
    assert values[broken] not in str(raised.value)
    assert stored_value(engine, broken).value == foreign
    assert stored_value(engine, broken).value_key_id == DIGEST_1
    # The rows before the broken one, in id order, were committed on the new key.
    assert raised.value.report.reencrypted == 2
    for secret_id in ids[:2]:
        assert stored_value(engine, secret_id).value_key_id == DIGEST_2
    for secret_id in ids[3:]:
        assert stored_value(engine, secret_id).value_key_id == DIGEST_1


def test_rotation_rerun_stops_at_same_row(engine: Engine) -> None:
    owner = create_user(engine)
    seed(engine, owner, encrypted=3, plaintext=0)
    broken = ordered_ids(engine)[0]
    stored = stored_value(engine, broken).value
    set_columns(engine, broken, value=stored[:-4] + ("AAAA" if stored[-4:] != "AAAA" else "BBBB"))
    with pytest.raises(RotationStoppedError):
        rotate_values(engine, ROTATING, batch_size=1)

    with pytest.raises(RotationStoppedError) as raised:
        rotate_values(engine, ROTATING, batch_size=1)

    assert raised.value.secret_id == broken
    assert raised.value.report.reencrypted == 0


def test_rotation_row_on_unconfigured_key_stops(engine: Engine) -> None:
    owner = create_user(engine)
    secret_id = insert_secret(engine, keyring(bytes([9]) * 32), owner.id, "value")

    with pytest.raises(RotationStoppedError) as raised:
        rotate_values(engine, ROTATING)

    assert raised.value.secret_id == secret_id
    assert "not configured" in str(raised.value)


def test_rotation_waits_for_locked_row_then_skips_it(engine: Engine) -> None:
    owner = create_user(engine)
    with Session(engine) as session, session.begin():
        secrets_store.create_secret(
            session,
            owner.actor,
            audit_context(owner.actor),
            OLD,
            owner.id,
            {"name": "busy", "value": "original"},
        )
    rotation_sent = threading.Event()
    reports: list[RotationReport] = []

    # A server with the new primary key updates the value and has not committed yet.
    # PostgreSQL: rotation reads the old committed row, and its UPDATE waits for the
    # row lock. SQLite: rotation's BEGIN IMMEDIATE waits for the database lock, or
    # runs after the commit.
    writer = Session(engine)
    writer.begin()
    secrets_store.update_secret(
        writer,
        owner.actor,
        audit_context(owner.actor),
        ROTATING,
        owner.id,
        "busy",
        {"value": "written during rotation"},
    )

    signal_first_statement(engine, rotation_sent)
    rotation = threading.Thread(target=lambda: reports.append(rotate_values(engine, ROTATING)))
    rotation.start()
    try:
        wait_until_blocked(engine, rotation_sent)
        writer.commit()
    finally:
        writer.close()
        rotation.join(timeout=LOCK_WAIT_TIMEOUT_SECONDS)

    assert not rotation.is_alive()
    assert reports[0].remaining == 0
    # On SQLite rotation began after the commit and found nothing left to rotate.
    assert reports[0].skipped == (1 if engine.dialect.name == "postgresql" else 0)
    assert rows_on(engine, DIGEST_2) == 1
    with Session(engine) as session, session.begin():
        secrets = secrets_store.list_secrets_with_values(session, owner.actor, NEW, owner.id)
    assert secrets[0].value == "written during rotation"
