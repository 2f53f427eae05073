"""`usersecrets serve`: the production WSGI server (waitress)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click
from waitress.server import create_server

from app.auth.tokens import DEFAULT_LIFETIME
from app.cli.context import load_settings, open_engine, transaction
from app.cli.keys import load_checked_keyring
from app.db import migrate
from app.factory import create_app
from app.users.admin import BOOTSTRAP_USERNAME, bootstrap_admin

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port to listen on.",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Worker threads handling requests.",
)
@click.option(
    "--migrate/--no-migrate",
    "migrate_first",
    default=True,
    show_default=True,
    help="Upgrade the database schema before serving.",
)
def serve(host: str, port: int, threads: int, migrate_first: bool) -> None:
    """Serve the API with waitress, migrating the database first unless --no-migrate is given.

    On an empty database the first start creates the `admin` owner and prints its token.
    """
    settings = load_settings()
    with open_engine(settings) as engine:
        head = migrate.head_revision()
        if migrate_first:
            migrate.upgrade(engine)
            click.echo(f"Database at revision {migrate.current_revision(engine)}.", err=True)
        else:
            found = migrate.current_revision(engine)
            if found != head:
                raise click.ClickException(
                    f"the database is at revision {found or 'base'} but this version needs "
                    f"{head}; run `usersecrets db upgrade` or start without --no-migrate"
                )
        load_checked_keyring(settings, engine)
        with transaction(engine) as session:
            token = bootstrap_admin(session, DEFAULT_LIFETIME)
    if token is not None:
        click.echo(f"Created the owner account {BOOTSTRAP_USERNAME!r}. Its API token:")
        click.echo(token)
        click.echo("This token will not be shown again; store it now.")

    app = create_app(settings)
    # create_server, not waitress.serve: serve() calls logging.basicConfig(), which
    # would print every line of the service's own handler a second time.
    server = create_server(app, host=host, port=port, threads=threads, ident="usersecrets")
    log.info(
        "listening url=http://%s:%s threads=%d database=%s",
        server.effective_host,
        server.effective_port,
        threads,
        settings.database_url.render_as_string(hide_password=True),
    )
    # SIGTERM (from `kill` or a process manager) stops the server the way Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # waitress's run() returns once it catches the KeyboardInterrupt.
        server.run()
    finally:
        server.close()
        log.info("stopped")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
