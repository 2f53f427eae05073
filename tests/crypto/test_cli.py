"""`usersecrets keys ...` and the start-up key check of `serve`, run as real processes."""

from __future__ import annotations

import base64
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.engine import URL

from app.crypto.cipher import KEY_BYTES, key_digest, secret_associated_data
from app.crypto.keys import KEY_FILE_NAME
from app.crypto.models import DbcryptKey
from tests.crypto.rows import (
    DIGEST_1,
    DIGEST_2,
    KEY_1,
    KEY_2,
    create_user,
    encoded,
    insert_secret,
    keyring,
    read_value,
    set_columns,
    stored_value,
)
from tests.support.server import ServerProcess, run_cli, service_env

KEY_MATERIAL = [encoded(KEY_1), encoded(KEY_2), KEY_1.hex(), KEY_2.hex()]
_CHECKED_RE = re.compile(r"encryption keys checked primary=([0-9a-f]{64})")


def keys_env(database_url: URL, tmp_path: Path, *keys: bytes) -> dict[str, str]:
    extra = {"USERSECRETS_ENCRYPTION_KEYS": encoded(*keys)} if keys else {}
    return service_env(database_url, tmp_path / "data", extra)


def assert_no_key_material(output: str) -> None:
    for material in KEY_MATERIAL:
        assert material not in output


def test_serve_missing_key_exits_naming_digest(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    user = create_user(engine)
    insert_secret(engine, keyring(KEY_1), user.id, "value")

    result = run_cli(["serve", "--port", "0"], keys_env(database_url, tmp_path, KEY_2))

    assert result.returncode == 1
    assert DIGEST_1 in result.stderr
    assert "missing encryption keys" in result.stderr
    assert "listening" not in result.stderr
    assert_no_key_material(result.stdout + result.stderr)


def test_serve_records_keys_and_starts(database_url: URL, tmp_path: Path) -> None:
    env = keys_env(database_url, tmp_path, KEY_2, KEY_1)

    with ServerProcess(env) as server:
        output = server.output

    assert f"recorded encryption key digest={DIGEST_2} role=primary" in output
    assert f"recorded encryption key digest={DIGEST_1} role=decrypt-only" in output
    assert_no_key_material(output)


def test_serve_key_file_created_then_reused(database_url: URL, tmp_path: Path) -> None:
    env = keys_env(database_url, tmp_path)
    key_file = tmp_path / "data" / KEY_FILE_NAME

    with ServerProcess(env) as first:
        first_primary = _CHECKED_RE.search(first.output)
    mode = stat.S_IMODE(key_file.stat().st_mode)
    content = key_file.read_text()
    with ServerProcess(env) as second:
        second_primary = _CHECKED_RE.search(second.output)
        second_output = second.output

    assert mode == 0o600
    assert first_primary is not None
    assert second_primary is not None
    assert second_primary.group(1) == first_primary.group(1)
    assert key_file.read_text() == content
    assert "created encryption key file" not in second_output
    assert content.strip() not in second_output


def test_keys_status_missing_key_exits_nonzero(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    user = create_user(engine)
    insert_secret(engine, keyring(KEY_1), user.id, "value")

    result = run_cli(["keys", "status"], keys_env(database_url, tmp_path, KEY_2))

    assert result.returncode == 1
    assert DIGEST_1 in result.stderr
    assert re.search(rf"^{DIGEST_1}\s+missing\s+1$", result.stdout, re.MULTILINE)
    assert_no_key_material(result.stdout + result.stderr)


def test_keys_status_lists_states_and_counts(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    user = create_user(engine)
    insert_secret(engine, keyring(KEY_1), user.id, "on key 1")
    insert_secret(engine, keyring(KEY_2), user.id, "on key 2")
    insert_secret(engine, keyring(KEY_2), user.id, "on key 2 again")
    insert_secret(engine, None, user.id, "plaintext")

    result = run_cli(["keys", "status"], keys_env(database_url, tmp_path, KEY_2, KEY_1))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["DIGEST", "STATE", "ROWS"]
    assert lines[1].split() == [DIGEST_2, "primary", "2"]
    assert lines[2].split() == [DIGEST_1, "decrypt-only", "1"]
    assert lines[3] == "plaintext rows (value_key_id NULL): 1"


def test_keys_status_wrong_key_exits_nonzero(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    env = keys_env(database_url, tmp_path, KEY_1)
    assert run_cli(["keys", "status"], env).returncode == 0
    foreign = keyring(KEY_2).encrypt_with(DIGEST_2, "x", b"")
    with engine.begin() as connection:
        connection.execute(update(DbcryptKey).values(test_ciphertext=foreign))

    result = run_cli(["keys", "status"], env)

    assert result.returncode == 1
    assert f"digest {DIGEST_1} does not decrypt the test ciphertext" in result.stderr


def test_keys_generate_prints_only_a_key(tmp_path: Path) -> None:
    env = service_env(URL.create("sqlite+pysqlite", database=str(tmp_path / "x.db")), tmp_path)

    first = run_cli(["keys", "generate"], env)
    second = run_cli(["keys", "generate"], env)

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == 1
    assert len(base64.b64decode(lines[0], validate=True)) == KEY_BYTES
    assert second.stdout != first.stdout
    assert not (tmp_path / "x.db").exists()


def test_keys_rotate_moves_rows_and_prints_counts(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    user = create_user(engine)
    ids = [insert_secret(engine, keyring(KEY_1), user.id, f"value {i}") for i in range(3)]
    plaintext_id = insert_secret(engine, None, user.id, "plaintext value")

    result = run_cli(
        ["keys", "rotate", "--batch-size", "2"], keys_env(database_url, tmp_path, KEY_2, KEY_1)
    )

    assert result.returncode == 0, result.stderr
    assert "re-encrypted: 3" in result.stdout
    assert "encrypted from plaintext: 1" in result.stdout
    assert "not on the primary key: 0" in result.stdout
    for index, secret_id in enumerate(ids):
        assert read_value(engine, keyring(KEY_2), secret_id) == f"value {index}"
    assert read_value(engine, keyring(KEY_2), plaintext_id) == "plaintext value"
    assert "value 0" not in result.stdout + result.stderr


def test_keys_rotate_max_batches_then_rerun(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    user = create_user(engine)
    for index in range(5):
        insert_secret(engine, keyring(KEY_1), user.id, f"value {index}")
    env = keys_env(database_url, tmp_path, KEY_2, KEY_1)

    first = run_cli(["keys", "rotate", "--batch-size", "2", "--max-batches", "1"], env)
    second = run_cli(["keys", "rotate", "--batch-size", "2"], env)

    assert first.returncode == 0, first.stderr
    assert "re-encrypted: 2" in first.stdout
    assert "not on the primary key: 3" in first.stdout
    assert "rerun to continue" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "re-encrypted: 3" in second.stdout
    assert "not on the primary key: 0" in second.stdout


def test_keys_rotate_undecryptable_row_exits_with_id(
    database_url: URL, tmp_path: Path, engine: Engine
) -> None:
    user = create_user(engine)
    other = create_user(engine)
    secret_id = insert_secret(engine, keyring(KEY_1), user.id, "canary-51e0")
    moved, _ = keyring(KEY_1).encrypt("canary-51e0", secret_associated_data(secret_id, other.id))
    set_columns(engine, secret_id, value=moved)

    result = run_cli(["keys", "rotate"], keys_env(database_url, tmp_path, KEY_2, KEY_1))

    assert result.returncode == 1
    assert str(secret_id) in result.stderr
    assert "canary-51e0" not in result.stdout + result.stderr
    assert stored_value(engine, secret_id).value == moved
    assert stored_value(engine, secret_id).value_key_id == DIGEST_1


def test_keys_rotate_rejects_missing_key(database_url: URL, tmp_path: Path, engine: Engine) -> None:
    user = create_user(engine)
    secret_id = insert_secret(engine, keyring(KEY_1), user.id, "value")
    before = stored_value(engine, secret_id)

    result = run_cli(["keys", "rotate"], keys_env(database_url, tmp_path, KEY_2))

    assert result.returncode == 1
    assert DIGEST_1 in result.stderr
    assert stored_value(engine, secret_id) == before


def test_keys_full_rotation_procedure(database_url: URL, tmp_path: Path, engine: Engine) -> None:
    user = create_user(engine)
    secret_id = insert_secret(engine, keyring(KEY_1), user.id, "kept across rotation")
    old_only = keys_env(database_url, tmp_path, KEY_1)
    both = keys_env(database_url, tmp_path, KEY_2, KEY_1)
    new_only = keys_env(database_url, tmp_path, KEY_2)
    assert run_cli(["keys", "status"], old_only).returncode == 0

    rotated = run_cli(["keys", "rotate"], both)
    revoked = run_cli(["keys", "revoke", DIGEST_1], both)
    status = run_cli(["keys", "status"], new_only)

    assert rotated.returncode == 0, rotated.stderr
    assert revoked.returncode == 0, revoked.stderr
    assert f"Key {DIGEST_1} revoked at" in revoked.stdout
    assert status.returncode == 0, status.stderr
    assert re.search(rf"^{DIGEST_1}\s+revoked\s+0$", status.stdout, re.MULTILINE)
    assert read_value(engine, keyring(KEY_2), secret_id) == "kept across rotation"


@pytest.mark.parametrize(
    ("keys", "digest", "expected"),
    [
        pytest.param((KEY_1,), DIGEST_1, "is the primary key", id="primary"),
        pytest.param((KEY_2, KEY_1), DIGEST_1, "1 stored values are encrypted", id="in-use"),
        pytest.param((KEY_1,), key_digest(bytes([7]) * KEY_BYTES), "is recorded", id="unknown"),
    ],
)
def test_keys_revoke_rejects(
    database_url: URL,
    tmp_path: Path,
    engine: Engine,
    keys: tuple[bytes, ...],
    digest: str,
    expected: str,
) -> None:
    user = create_user(engine)
    insert_secret(engine, keyring(KEY_1), user.id, "value")
    env = keys_env(database_url, tmp_path, *keys)
    assert run_cli(["keys", "status"], env).returncode == 0

    result = run_cli(["keys", "revoke", digest], env)

    assert result.returncode == 1
    assert expected in result.stderr
    assert "revoked at" not in result.stdout


def test_keys_revoke_rejects_malformed_digest(tmp_path: Path) -> None:
    env = service_env(URL.create("sqlite+pysqlite", database=str(tmp_path / "x.db")), tmp_path)

    result = run_cli(["keys", "revoke", DIGEST_1.upper()], env)

    assert result.returncode == 2
    assert "Invalid value for DIGEST" in result.stderr
    assert not (tmp_path / "x.db").exists()
