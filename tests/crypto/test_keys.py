"""Loading keys from USERSECRETS_ENCRYPTION_KEYS and from the data directory's key file."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest

from app.config import ConfigError, Settings
from app.crypto.cipher import KEY_BYTES
from app.crypto.keys import KEY_FILE_NAME, generate_key, load_keyring, parse_keys
from tests.crypto.rows import DIGEST_1, DIGEST_2, KEY_1, KEY_2, encoded
from tests.support import databases


def settings_for(data_dir: Path, encryption_keys: str | None = None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=databases.sqlite_url(data_dir / "unused.db"),
        encryption_keys=encryption_keys,
    )


def test_key_file_created_with_mode_0600(tmp_path: Path) -> None:
    load_keyring(settings_for(tmp_path / "data"))

    path = tmp_path / "data" / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_reused_on_second_load(tmp_path: Path) -> None:
    first = load_keyring(settings_for(tmp_path))
    content = (tmp_path / KEY_FILE_NAME).read_text()

    second = load_keyring(settings_for(tmp_path))

    assert second.digests == first.digests
    assert (tmp_path / KEY_FILE_NAME).read_text() == content


def test_key_file_ignored_when_variable_set(tmp_path: Path) -> None:
    ring = load_keyring(settings_for(tmp_path, encoded(KEY_1, KEY_2)))

    assert ring.digests == (DIGEST_1, DIGEST_2)
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_key_file_wide_mode_logs_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    load_keyring(settings_for(tmp_path))
    (tmp_path / KEY_FILE_NAME).chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="app.crypto.keys"):
        load_keyring(settings_for(tmp_path))

    assert "grants access to other users" in caplog.text
    assert "mode=0644" in caplog.text


def test_key_file_log_has_no_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="app.crypto.keys"):
        load_keyring(settings_for(tmp_path))

    key = (tmp_path / KEY_FILE_NAME).read_text().strip()
    assert "created encryption key file" in caplog.text
    assert key not in caplog.text


def test_generate_key_is_32_byte_base64() -> None:
    key = generate_key()

    assert len(base64.b64decode(key, validate=True)) == KEY_BYTES
    assert parse_keys(key, "test").digests


def test_generate_key_differs_each_call() -> None:
    assert generate_key() != generate_key()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("not base64!", "key 1 is not valid base64", id="invalid-base64"),
        pytest.param(
            base64.b64encode(b"short").decode(), "key 1 decodes to 5 bytes", id="short-key"
        ),
        pytest.param(encoded(KEY_1) + ",", "key 2 is empty", id="trailing-comma"),
        pytest.param(encoded(KEY_1, KEY_1), "the same key is configured twice", id="duplicate"),
    ],
)
def test_parse_keys_rejects_bad_value(raw: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_keys(raw, "USERSECRETS_ENCRYPTION_KEYS")

    assert expected in str(raised.value)
    assert encoded(KEY_1) not in str(raised.value)
