"""`usersecrets audit`: read the audit log of a running server, over the SDK."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import click

from app.audit.models import AUDIT_ACTIONS
from app.audit.query import MAX_LIMIT, parse_rfc3339
from app.audit.recorder import RESOURCE_TYPES
from app.cli.secrets import (
    ServerOptions,
    format_time,
    open_client,
    printable,
    server_options,
)
from app.sdk.models import AuditLog, AuditLogPage

DEFAULT_LIST_LIMIT = 100
TABLE_HEADER = ("TIME", "ACTOR", "ACTION", "RESOURCE", "TARGET", "CHANGED")
# Shown in the ACTOR column for a change made through the operator CLI.
CLI_ACTOR = "(cli)"


@click.group()
@server_options
@click.pass_context
def audit(ctx: click.Context, url: str, token: str | None) -> None:
    """Read the audit log: one entry per change, newest first.

    Needs a token of a user with the owner or auditor site role.
    """
    ctx.obj = ServerOptions(url=url, token=token)


def parse_time_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> dt.datetime | None:
    if value is None:
        return None
    parsed = parse_rfc3339(value)
    if parsed is None:
        raise click.BadParameter(
            "must be an RFC 3339 date-time with a time zone, e.g. 2026-01-31T09:00:00Z"
        )
    return parsed


@audit.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--actor", metavar="USER", help="Only changes made by USER: me, username or id.")
@click.option(
    "--resource-type",
    type=click.Choice(RESOURCE_TYPES),
    help="Only changes to resources of this type.",
)
@click.option("--action", type=click.Choice(AUDIT_ACTIONS), help="Only changes of this kind.")
@click.option(
    "--target-user",
    metavar="USER",
    help="Only changes to resources USER owns (or to USER itself): me, username or id.",
)
@click.option(
    "--since",
    metavar="TIME",
    callback=parse_time_option,
    help="Only changes at or after TIME, an RFC 3339 date-time such as 2026-01-31T09:00:00Z.",
)
@click.option(
    "--until",
    metavar="TIME",
    callback=parse_time_option,
    help="Only changes before TIME, an RFC 3339 date-time.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIST_LIMIT,
    show_default=True,
    help="Maximum number of entries to print, fetched in pages of up to 1000.",
)
def list_entries(
    as_json: bool,
    actor: str | None,
    resource_type: str | None,
    action: str | None,
    target_user: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
) -> None:
    """List audit log entries, newest first.

    When more entries match than --limit allows, a note on stderr reports it.
    """
    with open_client() as client:

        def fetch_page(page_limit: int, after: str | None) -> AuditLogPage:
            return client.list_audit_logs(
                actor=actor,
                resource_type=resource_type,
                action=action,
                target_user=target_user,
                since=since,
                until=until,
                limit=page_limit,
                after=after,
            )

        entries, more = fetch_entries(fetch_page, limit)

    if as_json:
        click.echo(json.dumps([entry.to_json() for entry in entries], indent=2))
    elif entries:
        print_table(entries)
    else:
        click.echo("No audit log entries match.", err=True)
    if more:
        click.echo(
            f"More entries match than the {limit} shown; raise --limit or narrow the filters.",
            err=True,
        )


def fetch_entries(
    fetch_page: Callable[[int, str | None], AuditLogPage], limit: int
) -> tuple[list[AuditLog], bool]:
    """Fetch up to `limit` entries page by page; also return whether more entries match.

    `fetch_page(page_limit, after)` returns one page of at most `page_limit` entries.
    """
    entries: list[AuditLog] = []
    after: str | None = None
    while True:
        page = fetch_page(min(limit - len(entries), MAX_LIMIT), after)
        entries.extend(page.audit_logs)
        after = page.next_after
        if after is None:
            return entries, False
        if len(entries) >= limit:
            return entries, True


def print_table(entries: list[AuditLog]) -> None:
    rows = [TABLE_HEADER, *(table_row(entry) for entry in entries)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(TABLE_HEADER))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def table_row(entry: AuditLog) -> tuple[str, ...]:
    # A deleted actor is shown by id, because the row outlives its username.
    actor = CLI_ACTOR if entry.user_id is None else (entry.username or str(entry.user_id))
    return (
        format_time(entry.time),
        printable(actor),
        printable(entry.action),
        printable(entry.resource_type),
        printable(entry.resource_target or entry.resource_id),
        # Sorted, because PostgreSQL's jsonb does not keep the order of keys.
        printable(",".join(sorted(entry.diff))),
    )
