"""The `usersecrets` command line."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import OperationalError

from app.cli.admin import orgs, tokens, users
from app.cli.audit import audit
from app.cli.db import db
from app.cli.keys import keys
from app.cli.policy import policy
from app.cli.secrets import secrets
from app.cli.serve import serve


class _Commands(click.Group):
    """Turns a database that cannot be reached into one line, for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OperationalError as error:
            # error.orig is the driver's message: host, database and role, never a password.
            reason = str(error.orig).strip().splitlines()[0] if error.orig else "unknown"
            raise click.ClickException(
                f"cannot use the database: {reason}. Check USERSECRETS_DATABASE_URL."
            ) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Manage and serve usersecrets.

    Settings come from USERSECRETS_* environment variables; see the README.
    """


main.add_command(db)
main.add_command(serve)
main.add_command(users)
main.add_command(orgs)
main.add_command(tokens)
main.add_command(keys)
main.add_command(policy)
main.add_command(secrets)
main.add_command(audit)
