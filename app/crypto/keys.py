"""Loading of encryption keys from USERSECRETS_ENCRYPTION_KEYS or from a key file.

Production deployments set the variable: base64 32-byte keys, comma separated, the
first one primary. Without it, the embedded default keeps one generated key in
`<data dir>/encryption.key`, created with mode 0600 on first start.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path

from app.config import PREFIX, ConfigError, Settings
from app.crypto.cipher import KEY_BYTES, Keyring

log = logging.getLogger(__name__)

KEYS_VARIABLE = f"{PREFIX}ENCRYPTION_KEYS"
KEY_FILE_NAME = "encryption.key"


def generate_key() -> str:
    """Return a new random key, base64 encoded, as the variable expects it."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_keys(raw: str, source: str) -> Keyring:
    """Parse comma-separated base64 keys; errors name the source and position, not the key."""
    keys: list[bytes] = []
    for position, part in enumerate(raw.split(","), start=1):
        text = part.strip()
        if not text:
            raise ConfigError(f"{source}: key {position} is empty; remove the extra comma")
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{source}: key {position} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ConfigError(
                f"{source}: key {position} decodes to {len(key)} bytes; each key must be "
                f"{KEY_BYTES} bytes (generate one with `usersecrets keys generate`)"
            )
        keys.append(key)
    try:
        return Keyring(tuple(keys))
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None


def load_keyring(settings: Settings) -> Keyring:
    """Return the configured keyring, creating the data directory's key file if needed."""
    if settings.encryption_keys:
        return parse_keys(settings.encryption_keys, KEYS_VARIABLE)
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning(
            "encryption key file grants access to other users path=%s mode=%04o; "
            "run chmod 600 on it",
            path,
            mode,
        )
    return parse_keys(path.read_text().strip(), str(path))


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not both write a key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as file:
        file.write(generate_key() + "\n")
    log.info("created encryption key file path=%s mode=0600", path)
