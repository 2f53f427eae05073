"""Operator commands: `users`, `orgs` and `tokens`, run with direct database access."""

from __future__ import annotations

import datetime as dt

import click

from app.auth.tokens import MAX_LIFETIME
from app.cli.context import load_settings, open_engine, transaction
from app.orgs.errors import OrganizationNameTaken, OrganizationNotFound
from app.users import admin
from app.users.errors import InvalidUsername, UsernameTaken, UserNotFound
from app.users.models import SITE_ROLES


@click.group()
def users() -> None:
    """Create user accounts."""


@users.command("create")
@click.argument("username")
@click.option("--email", default="", help="Contact address stored with the account.")
@click.option(
    "--role",
    type=click.Choice(SITE_ROLES),
    default=None,
    help="Site role to grant; every active user is also a member.",
)
def create_user(username: str, email: str, role: str | None) -> None:
    """Create the user USERNAME and print its id."""
    with open_engine(load_settings()) as engine, transaction(engine) as session:
        try:
            user = admin.create_user(session, username, email=email, role=role)
        except InvalidUsername as error:
            raise click.BadParameter(str(error), param_hint="USERNAME") from None
        except UsernameTaken:
            raise click.ClickException(f"the username {username!r} is taken") from None
        click.echo(str(user.id))


@click.group()
def orgs() -> None:
    """Create organizations and add members."""


@orgs.command("create")
@click.argument("name")
def create_org(name: str) -> None:
    """Create the organization NAME and print its id."""
    with open_engine(load_settings()) as engine, transaction(engine) as session:
        try:
            org = admin.create_organization(session, name)
        except OrganizationNameTaken:
            raise click.ClickException(f"an organization named {name!r} exists") from None
        click.echo(str(org.id))


@orgs.command("add-member")
@click.argument("org")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["org-member", "org-admin"]),
    default="org-member",
    show_default=True,
    help="Organization role to grant.",
)
def add_member(org: str, username: str, role: str) -> None:
    """Add USERNAME to the organization ORG, or change the member's role."""
    with open_engine(load_settings()) as engine, transaction(engine) as session:
        try:
            admin.add_member(session, org, username, role)
        except OrganizationNotFound:
            raise click.ClickException(f"organization {org!r} not found") from None
        except UserNotFound:
            raise click.ClickException(f"user {username!r} not found") from None


@click.group()
def tokens() -> None:
    """Create API tokens."""


@tokens.command("create")
@click.argument("username")
@click.option(
    "--lifetime",
    type=click.IntRange(1, MAX_LIFETIME.days),
    default=30,
    show_default=True,
    help="Days until the token expires.",
)
def create_token(username: str, lifetime: int) -> None:
    """Create a token for USERNAME and print only the token, for TOKEN=$(...)."""
    with open_engine(load_settings()) as engine, transaction(engine) as session:
        try:
            token = admin.create_token(session, username, dt.timedelta(days=lifetime))
        except UserNotFound:
            raise click.ClickException(f"user {username!r} not found") from None
    click.echo(token)
