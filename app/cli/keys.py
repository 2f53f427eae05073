"""`usersecrets keys`: generate, inspect, rotate and revoke the keys that encrypt values.

`status`, `rotate` and `revoke` also run the start-up key check that `serve` runs, and
exit with status 1 when it fails. `generate` needs no database.
"""

from __future__ import annotations

import logging
import re

import click
from sqlalchemy import Engine

from app.cli.context import load_settings, open_engine, transaction
from app.config import ConfigError, Settings
from app.crypto.cipher import Keyring
from app.crypto.errors import KeyCheckError, RevocationError, RotationStoppedError
from app.crypto.keys import generate_key, load_keyring
from app.crypto.store import (
    DEFAULT_BATCH_SIZE,
    RotationReport,
    check_and_record_keys,
    keyring_status,
    revoke_key,
    rotate_values,
)
from app.db import migrate
from app.logging import configure_logging

log = logging.getLogger(__name__)

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")


def load_checked_keyring(settings: Settings, engine: Engine) -> Keyring:
    """Load the configured keys and run the start-up key check, or exit with status 1.

    The check records new keys in dbcrypt_keys and commits. `serve` calls this after
    migrating and before it accepts requests.
    """
    configure_logging(settings.log_level)
    keyring = _load_keyring(settings)
    with transaction(engine) as session:
        try:
            check_and_record_keys(session, keyring)
        except KeyCheckError as error:
            raise click.ClickException(str(error)) from None
    log.info(
        "encryption keys checked primary=%s decrypt_only=%d",
        keyring.primary_digest,
        len(keyring.digests) - 1,
    )
    return keyring


def _load_keyring(settings: Settings) -> Keyring:
    try:
        return load_keyring(settings)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _require_current_schema(engine: Engine) -> None:
    found = migrate.current_revision(engine)
    head = migrate.head_revision()
    if found != head:
        raise click.ClickException(
            f"the database is at revision {found or 'base'} but this version needs {head}; "
            "run `usersecrets db upgrade`"
        )


@click.group()
def keys() -> None:
    """Manage the keys that encrypt secret values at rest.

    Keys come from USERSECRETS_ENCRYPTION_KEYS (comma-separated base64 keys, the first
    one primary) or, when it is unset, from encryption.key in the data directory.
    """


@keys.command()
def generate() -> None:
    """Print a new random key in base64, and only it, for KEY=$(...).

    The key is not stored anywhere; add it to USERSECRETS_ENCRYPTION_KEYS yourself.
    """
    click.echo(generate_key())


@keys.command()
def status() -> None:
    """List each key digest with its state and row count, then the plaintext row count.

    States: primary (encrypts new values), decrypt-only (configured after the primary),
    revoked, and missing (needed by the database but not configured). Exits with status
    1 after the table when the start-up key check fails.
    """
    settings = load_settings()
    configure_logging(settings.log_level)
    keyring = _load_keyring(settings)
    failure: KeyCheckError | None = None
    with open_engine(settings) as engine:
        _require_current_schema(engine)
        with transaction(engine) as session:
            report = keyring_status(session, keyring)
            try:
                check_and_record_keys(session, keyring)
            except KeyCheckError as error:
                failure = error

    click.echo(f"{'DIGEST':<64}  {'STATE':<12}  {'ROWS':>8}")
    for key in report.keys:
        click.echo(f"{key.digest:<64}  {key.state:<12}  {key.rows:>8}")
    click.echo(f"plaintext rows (value_key_id NULL): {report.plaintext_rows}")
    if failure is not None:
        raise click.ClickException(str(failure))


@keys.command()
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Rows re-encrypted per transaction.",
)
@click.option(
    "--max-batches",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many batches; rerun to continue. Default: no limit.",
)
def rotate(batch_size: int, max_batches: int | None) -> None:
    """Re-encrypt every value that is not on the primary key, plaintext rows included.

    Safe to run while servers serve writes and safe to interrupt: each batch commits on
    its own, and a rerun continues with the rows left. Exits with status 1 when a row
    cannot be decrypted (naming its id) or when rows remain on another key.
    """
    settings = load_settings()
    with open_engine(settings) as engine:
        _require_current_schema(engine)
        keyring = load_checked_keyring(settings, engine)
        try:
            report = rotate_values(engine, keyring, batch_size=batch_size, max_batches=max_batches)
        except RotationStoppedError as error:
            _echo_report(error.report)
            raise click.ClickException(str(error)) from None

    _echo_report(report)
    if report.stopped_early and report.remaining:
        click.echo(f"Stopped after {report.batches} batches; rerun to continue.")
    elif report.remaining:
        raise click.ClickException(
            f"{report.remaining} values are still not on the primary key, because a server "
            "with another primary key wrote them during rotation. Configure every server "
            "with the new primary key, restart them, and rerun `usersecrets keys rotate`."
        )


def _echo_report(report: RotationReport) -> None:
    click.echo(f"re-encrypted: {report.reencrypted}")
    click.echo(f"encrypted from plaintext: {report.encrypted}")
    click.echo(f"skipped, changed by another writer: {report.skipped}")
    click.echo(f"not on the primary key: {report.remaining}")


@keys.command()
@click.argument("digest")
def revoke(digest: str) -> None:
    """Mark the key with DIGEST revoked, so it may be removed from the configuration.

    Rejected for the primary key and while stored values still use the key; run
    `usersecrets keys rotate` first. The key need not be configured, so a missing key
    that no row uses can be revoked. The start-up key check runs after the revocation
    is committed, and the command exits with status 1 when it still fails.
    """
    if not _DIGEST_RE.fullmatch(digest):
        raise click.BadParameter(
            "expected the 64 lowercase hex characters that `usersecrets keys status` shows",
            param_hint="DIGEST",
        )
    settings = load_settings()
    configure_logging(settings.log_level)
    keyring = _load_keyring(settings)
    with open_engine(settings) as engine:
        _require_current_schema(engine)
        with transaction(engine) as session:
            try:
                revoked_at = revoke_key(session, keyring, digest)
            except RevocationError as error:
                raise click.ClickException(str(error)) from None
        click.echo(f"Key {digest} revoked at {revoked_at.isoformat()}.")
        load_checked_keyring(settings, engine)
