"""Values at rest, the start-up key check, key status and revocation, on both databases."""

from __future__ import annotations

import base64
import threading
import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.crypto.cipher import DecryptionError, Keyring, KeyUnavailableError
from app.crypto.errors import (
    KeyInUseError,
    KeyMismatchError,
    MissingKeysError,
    PrimaryKeyRevocationError,
    PrimaryKeyRevokedError,
    UnknownKeyError,
)
from app.crypto.models import DbcryptKey
from app.crypto.store import (
    KEY_CHECK_PLAINTEXT,
    KeyStatus,
    check_and_record_keys,
    key_check_associated_data,
    keyring_status,
    revoke_key,
)
from app.secrets import store as secrets_store
from tests.crypto.rows import (
    DIGEST_1,
    DIGEST_2,
    DIGEST_3,
    KEY_1,
    KEY_2,
    KEY_3,
    LOCK_WAIT_TIMEOUT_SECONDS,
    audit_context,
    create_user,
    insert_secret,
    keyring,
    raw_rows,
    read_value,
    scalar,
    set_columns,
    signal_first_statement,
    stored_value,
    wait_until_blocked,
)


def check(engine: Engine, ring: Keyring) -> list[str]:
    with Session(engine) as session, session.begin():
        return check_and_record_keys(session, ring)


def recorded_keys(engine: Engine) -> dict[str, DbcryptKey]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        return {row.digest: row for row in session.scalars(select(DbcryptKey))}


def status(engine: Engine, ring: Keyring) -> tuple[list[KeyStatus], int]:
    with Session(engine) as session, session.begin():
        report = keyring_status(session, ring)
    return list(report.keys), report.plaintext_rows


def revoke(engine: Engine, ring: Keyring, digest: str) -> None:
    with Session(engine) as session, session.begin():
        revoke_key(session, ring, digest)


# -- Values at rest -----------------------------------------------------------------


def test_stored_value_round_trip(engine: Engine) -> None:
    ring = keyring(KEY_1)
    user = create_user(engine)

    secret_id = insert_secret(engine, ring, user.id, "pässwörd 🔑")

    assert read_value(engine, ring, secret_id) == "pässwörd 🔑"


def test_raw_table_never_contains_plaintext(engine: Engine) -> None:
    ring = keyring(KEY_1)
    user = create_user(engine)
    canary = f"canary-{uuid.uuid4().hex}"
    with Session(engine) as session, session.begin():
        created = secrets_store.create_secret(
            session,
            user.actor,
            audit_context(user.actor),
            ring,
            user.id,
            {"name": "db-password", "value": canary},
        )

    matches = scalar(
        engine, "SELECT COUNT(*) FROM user_secrets WHERE value LIKE :pattern", pattern="%canary-%"
    )
    assert matches == 0
    for row in raw_rows(engine):
        for column, stored in row.items():
            assert canary not in str(stored), column
    assert read_value(engine, ring, created.id) == canary


def test_raw_table_never_contains_base64_plaintext(engine: Engine) -> None:
    ring = keyring(KEY_1)
    user = create_user(engine)
    canary = f"canary-{uuid.uuid4().hex}"
    insert_secret(engine, ring, user.id, canary)

    for encoding in (base64.b64encode, base64.urlsafe_b64encode):
        fragment = encoding(canary.encode()).decode()[:16]
        for row in raw_rows(engine):
            assert fragment not in str(row["value"]), encoding.__name__


def test_tampered_stored_value_fails(engine: Engine) -> None:
    ring = keyring(KEY_1)
    user = create_user(engine)
    secret_id = insert_secret(engine, ring, user.id, "value")
    stored = stored_value(engine, secret_id).value
    middle = len(stored) // 2
    replacement = "A" if stored[middle] != "A" else "B"
    set_columns(engine, secret_id, value=stored[:middle] + replacement + stored[middle + 1 :])

    with pytest.raises(DecryptionError):
        read_value(engine, ring, secret_id)


@pytest.mark.parametrize("same_user", [True, False], ids=["same-user", "other-user"])
def test_ciphertext_copied_to_other_row_fails(engine: Engine, same_user: bool) -> None:
    ring = keyring(KEY_1)
    owner = create_user(engine)
    other = owner if same_user else create_user(engine)
    source = insert_secret(engine, ring, owner.id, "value of A")
    target = insert_secret(engine, ring, other.id, "value of B")
    copied = stored_value(engine, source)
    set_columns(engine, target, value=copied.value, value_key_id=copied.value_key_id)

    with pytest.raises(DecryptionError):
        read_value(engine, ring, target)


def test_row_on_unconfigured_key_names_digest(engine: Engine) -> None:
    user = create_user(engine)
    secret_id = insert_secret(engine, keyring(KEY_1), user.id, "value")

    with pytest.raises(KeyUnavailableError) as raised:
        read_value(engine, keyring(KEY_2), secret_id)

    assert raised.value.digest == DIGEST_1


# -- The start-up check -------------------------------------------------------------


def test_check_records_every_configured_key(engine: Engine) -> None:
    ring = keyring(KEY_1, KEY_2)

    added = check(engine, ring)

    assert added == [DIGEST_1, DIGEST_2]
    recorded = recorded_keys(engine)
    assert set(recorded) == {DIGEST_1, DIGEST_2}
    for digest, row in recorded.items():
        assert row.revoked_at is None, digest
        plaintext = ring.decrypt(row.test_ciphertext, digest, key_check_associated_data(digest))
        assert plaintext == KEY_CHECK_PLAINTEXT, digest


def test_check_test_ciphertext_bound_to_digest(engine: Engine) -> None:
    check(engine, keyring(KEY_1))
    row = recorded_keys(engine)[DIGEST_1]

    with pytest.raises(DecryptionError):
        keyring(KEY_1).decrypt(row.test_ciphertext, DIGEST_1, key_check_associated_data(DIGEST_2))


def test_check_second_run_records_nothing(engine: Engine) -> None:
    ring = keyring(KEY_1, KEY_2)
    check(engine, ring)
    before = recorded_keys(engine)

    added = check(engine, ring)

    assert added == []
    after = recorded_keys(engine)
    assert after[DIGEST_1].test_ciphertext == before[DIGEST_1].test_ciphertext
    assert after[DIGEST_1].activated_at == before[DIGEST_1].activated_at


def test_check_new_primary_keeps_old_key_active(engine: Engine) -> None:
    check(engine, keyring(KEY_1))

    added = check(engine, keyring(KEY_2, KEY_1))

    assert added == [DIGEST_2]
    assert recorded_keys(engine)[DIGEST_1].revoked_at is None


def test_check_concurrent_starts_record_key_once(engine: Engine) -> None:
    ring = keyring(KEY_1)
    second_sent = threading.Event()
    results: list[list[str]] = []

    # The first start has inserted the key's row and not committed yet. On PostgreSQL
    # the second start's insert waits for it and then violates the primary key. On
    # SQLite the second start waits for the database lock and then finds the row.
    first = Session(engine)
    first.begin()
    assert check_and_record_keys(first, ring) == [DIGEST_1]
    signal_first_statement(engine, second_sent)
    second = threading.Thread(target=lambda: results.append(check(engine, ring)))
    second.start()
    try:
        wait_until_blocked(engine, second_sent)
        first.commit()
    finally:
        first.close()
        second.join(timeout=LOCK_WAIT_TIMEOUT_SECONDS)

    assert not second.is_alive()
    assert results == [[]]
    assert set(recorded_keys(engine)) == {DIGEST_1}


def test_check_rejects_key_missing_for_rows(engine: Engine) -> None:
    user = create_user(engine)
    insert_secret(engine, keyring(KEY_1), user.id, "value")

    with pytest.raises(MissingKeysError) as raised:
        check(engine, keyring(KEY_2))

    assert raised.value.digests == (DIGEST_1,)
    assert DIGEST_1 in str(raised.value)


def test_check_rejects_missing_active_key(engine: Engine) -> None:
    check(engine, keyring(KEY_1))

    with pytest.raises(MissingKeysError) as raised:
        check(engine, keyring(KEY_2))

    assert raised.value.digests == (DIGEST_1,)


def test_check_names_every_missing_digest(engine: Engine) -> None:
    check(engine, keyring(KEY_1, KEY_2))

    with pytest.raises(MissingKeysError) as raised:
        check(engine, keyring(KEY_3))

    assert raised.value.digests == tuple(sorted([DIGEST_1, DIGEST_2]))


def test_check_failure_records_nothing(engine: Engine) -> None:
    check(engine, keyring(KEY_1))

    with pytest.raises(MissingKeysError):
        check(engine, keyring(KEY_2))

    assert set(recorded_keys(engine)) == {DIGEST_1}


def test_check_message_has_no_key_material(engine: Engine) -> None:
    check(engine, keyring(KEY_1))

    with pytest.raises(MissingKeysError) as raised:
        check(engine, keyring(KEY_2))

    for key in (KEY_1, KEY_2):
        assert base64.b64encode(key).decode() not in str(raised.value)
        assert key.hex() not in str(raised.value)


def test_check_rejects_corrupt_test_ciphertext(engine: Engine) -> None:
    check(engine, keyring(KEY_1))
    foreign = keyring(KEY_2).encrypt_with(
        DIGEST_2, KEY_CHECK_PLAINTEXT, key_check_associated_data(DIGEST_1)
    )
    with Session(engine) as session, session.begin():
        session.get_one(DbcryptKey, DIGEST_1).test_ciphertext = foreign

    with pytest.raises(KeyMismatchError) as raised:
        check(engine, keyring(KEY_1))

    assert raised.value.digest == DIGEST_1


def test_check_rejects_wrong_test_plaintext(engine: Engine) -> None:
    check(engine, keyring(KEY_1))
    other_plaintext = keyring(KEY_1).encrypt_with(
        DIGEST_1, "something else", key_check_associated_data(DIGEST_1)
    )
    with Session(engine) as session, session.begin():
        session.get_one(DbcryptKey, DIGEST_1).test_ciphertext = other_plaintext

    with pytest.raises(KeyMismatchError):
        check(engine, keyring(KEY_1))


def test_check_rejects_revoked_primary(engine: Engine) -> None:
    check(engine, keyring(KEY_2, KEY_1))
    revoke(engine, keyring(KEY_2, KEY_1), DIGEST_1)

    with pytest.raises(PrimaryKeyRevokedError) as raised:
        check(engine, keyring(KEY_1, KEY_2))

    assert raised.value.digest == DIGEST_1


def test_check_accepts_revoked_unconfigured_key(engine: Engine) -> None:
    check(engine, keyring(KEY_2, KEY_1))
    revoke(engine, keyring(KEY_2, KEY_1), DIGEST_1)

    assert check(engine, keyring(KEY_2)) == []


# -- Status -------------------------------------------------------------------------


def test_status_counts_rows_per_digest(engine: Engine) -> None:
    user = create_user(engine)
    for _ in range(2):
        insert_secret(engine, keyring(KEY_1), user.id, "on key 1")
    insert_secret(engine, keyring(KEY_2), user.id, "on key 2")
    for _ in range(3):
        insert_secret(engine, None, user.id, "plaintext")

    keys, plaintext_rows = status(engine, keyring(KEY_2, KEY_1))

    assert keys == [
        KeyStatus(DIGEST_2, "primary", 1),
        KeyStatus(DIGEST_1, "decrypt-only", 2),
    ]
    assert plaintext_rows == 3


def test_status_reports_missing_and_revoked(engine: Engine) -> None:
    user = create_user(engine)
    check(engine, keyring(KEY_3, KEY_2, KEY_1))
    revoke(engine, keyring(KEY_3, KEY_2, KEY_1), DIGEST_1)
    insert_secret(engine, keyring(KEY_2), user.id, "on key 2")

    keys, _ = status(engine, keyring(KEY_3))

    assert keys[0] == KeyStatus(DIGEST_3, "primary", 0)
    assert set(keys[1:]) == {KeyStatus(DIGEST_1, "revoked", 0), KeyStatus(DIGEST_2, "missing", 1)}


def test_status_configured_revoked_key(engine: Engine) -> None:
    check(engine, keyring(KEY_2, KEY_1))
    revoke(engine, keyring(KEY_2, KEY_1), DIGEST_1)

    keys, _ = status(engine, keyring(KEY_2, KEY_1))

    assert keys[1] == KeyStatus(DIGEST_1, "revoked", 0)


# -- Revocation ---------------------------------------------------------------------


def test_revoke_marks_revoked_at(engine: Engine) -> None:
    ring = keyring(KEY_2, KEY_1)
    check(engine, ring)

    revoke(engine, ring, DIGEST_1)

    recorded = recorded_keys(engine)
    assert recorded[DIGEST_1].revoked_at is not None
    assert recorded[DIGEST_2].revoked_at is None


def test_revoke_twice_keeps_first_time(engine: Engine) -> None:
    ring = keyring(KEY_2, KEY_1)
    check(engine, ring)
    revoke(engine, ring, DIGEST_1)
    first = recorded_keys(engine)[DIGEST_1].revoked_at

    revoke(engine, ring, DIGEST_1)

    assert recorded_keys(engine)[DIGEST_1].revoked_at == first


def test_revoke_rejects_primary_key(engine: Engine) -> None:
    ring = keyring(KEY_1)
    check(engine, ring)

    with pytest.raises(PrimaryKeyRevocationError):
        revoke(engine, ring, DIGEST_1)

    assert recorded_keys(engine)[DIGEST_1].revoked_at is None


def test_revoke_rejects_key_in_use(engine: Engine) -> None:
    user = create_user(engine)
    ring = keyring(KEY_2, KEY_1)
    check(engine, ring)
    insert_secret(engine, keyring(KEY_1), user.id, "one")
    insert_secret(engine, keyring(KEY_1), user.id, "two")

    with pytest.raises(KeyInUseError) as raised:
        revoke(engine, ring, DIGEST_1)

    assert raised.value.rows == 2
    assert recorded_keys(engine)[DIGEST_1].revoked_at is None


def test_revoke_rejects_unknown_digest(engine: Engine) -> None:
    check(engine, keyring(KEY_1))

    with pytest.raises(UnknownKeyError):
        revoke(engine, keyring(KEY_1), DIGEST_3)


def test_revoke_accepts_unconfigured_unused_key(engine: Engine) -> None:
    check(engine, keyring(KEY_2, KEY_1))

    revoke(engine, keyring(KEY_2), DIGEST_1)

    assert recorded_keys(engine)[DIGEST_1].revoked_at is not None
    assert check(engine, keyring(KEY_2)) == []


def test_revoke_counts_only_rows_on_that_key(engine: Engine) -> None:
    user = create_user(engine)
    ring = keyring(KEY_2, KEY_1)
    check(engine, ring)
    insert_secret(engine, keyring(KEY_2), user.id, "on key 2")
    insert_secret(engine, None, user.id, "plaintext")

    revoke(engine, ring, DIGEST_1)

    assert recorded_keys(engine)[DIGEST_1].revoked_at is not None
