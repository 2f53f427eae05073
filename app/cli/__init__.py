"""The `usersecrets` command line."""

from __future__ import annotations

import click

from app.cli.admin import orgs, tokens, users
from app.cli.audit import audit
from app.cli.db import db
from app.cli.keys import keys
from app.cli.policy import policy
from app.cli.secrets import secrets
from app.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
