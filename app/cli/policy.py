"""`usersecrets policy`: review the Casbin policy in policies/ without a database."""

from __future__ import annotations

from pathlib import Path

import click

from app.authz import review
from app.authz.errors import PolicyLoadError
from app.authz.policy import POLICIES_DIR, Policy
from app.authz.roles import CATALOG_FILE, ROLES_DIR, Catalog, CatalogError, load_catalog


class PolicyToolError(click.ClickException):
    """Error for a policy or catalog that cannot be loaded.

    It exits with status 2, so that status 1 always means findings or differing cells.
    """

    exit_code = 2


_DIRECTORY = click.Path(exists=True, file_okay=False, path_type=Path)

policies_option = click.option(
    "--policies",
    "policies_dir",
    type=_DIRECTORY,
    default=POLICIES_DIR,
    show_default="policies/ of this checkout",
    help="Directory with model.conf and policy.csv.",
)
roles_option = click.option(
    "--roles",
    "roles_dir",
    type=_DIRECTORY,
    default=ROLES_DIR,
    show_default="roles/ of this checkout",
    help="Directory with catalog.toml (and matrix.csv for check).",
)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _load_catalog(roles_dir: Path) -> Catalog:
    try:
        return load_catalog(roles_dir / CATALOG_FILE)
    except (OSError, CatalogError) as error:
        raise PolicyToolError(f"cannot load the role catalog: {error}") from None


def _load_policy(policies_dir: Path, catalog: Catalog) -> Policy:
    try:
        return Policy.load(policies_dir, catalog)
    except PolicyLoadError as error:
        raise PolicyToolError(str(error)) from None


@click.group()
def policy() -> None:
    """Check, print, explain and compare the authorization policy."""


@policy.command(short_help="Lint the policy and compare it with roles/matrix.csv.")
@policies_option
@roles_option
def check(policies_dir: Path, roles_dir: Path) -> None:
    """Lint the policy files and compare their decisions with the matrix.

    Prints each lint finding as FILE:LINE: PROBLEM and each cell where the policy
    differs from matrix.csv in --roles.

    \b
    Exit status: 0 when the files are clean and every cell matches,
    1 on any finding or differing cell.
    """
    result = review.check_policies(policies_dir, roles_dir)
    for finding in result.findings:
        click.echo(review.format_finding(finding))
    for difference in result.differences:
        click.echo(str(difference))

    policy_files = review.display_path(policies_dir)
    if result.clean:
        click.echo(
            f"{policy_files}: lint clean, and all {result.cells_compared} cells match "
            f"{review.display_path(roles_dir)}/matrix.csv."
        )
        return
    click.echo(
        f"{policy_files}: {_count(len(result.findings), 'lint finding')}, "
        f"{_count(len(result.differences), 'cell')} differing from the expected matrix."
    )
    click.get_current_context().exit(1)


@policy.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(review.MATRIX_FORMATS),
    default="markdown",
    show_default=True,
    help="Output format. The csv format has the layout of roles/matrix.csv.",
)
@policies_option
@roles_option
def matrix(output_format: str, policies_dir: Path, roles_dir: Path) -> None:
    """Print the policy's decision for every cell of the role catalog."""
    loaded = _load_policy(policies_dir, _load_catalog(roles_dir))
    click.echo(review.render_matrix(loaded, output_format), nl=False)


@policy.command()
@click.argument("roles")
@click.argument("relation")
@click.argument("resource")
@click.argument("action")
@policies_option
@roles_option
def explain(
    roles: str, relation: str, resource: str, action: str, policies_dir: Path, roles_dir: Path
) -> None:
    """Show the decision for one request and the policy lines behind it.

    ROLES is one role or a comma-separated list, such as owner,member. The service
    allows a request when any of the actor's roles allows it.

    \b
    Example: usersecrets policy explain owner other user_secret read
    """
    role_names = [name.strip() for name in roles.split(",") if name.strip()]
    if not role_names:
        raise click.BadParameter("expected at least one role name", param_hint="ROLES")
    loaded = _load_policy(policies_dir, _load_catalog(roles_dir))
    try:
        explanation = review.explain(loaded, role_names, relation, resource, action)
    except review.UnknownNameError as error:
        raise click.UsageError(str(error)) from None
    for line in review.format_explanation(explanation):
        click.echo(line)


@policy.command(short_help="List the cells that a new policy grants or revokes.")
@click.argument("old_dir", type=_DIRECTORY)
@click.argument("new_dir", type=_DIRECTORY)
@roles_option
def diff(old_dir: Path, new_dir: Path, roles_dir: Path) -> None:
    """List the cells that NEW_DIR grants or revokes compared with OLD_DIR.

    Both directories hold a model.conf and a policy.csv, such as policies/ before
    and after a change. Each differing cell prints as "granted: ROLE, RELATION,
    RESOURCE, ACTION" or "revoked: ...".

    \b
    Exit status: 0 when no cell differs, 1 when some cells differ,
    2 when a policy or the catalog cannot be loaded.
    """
    catalog = _load_catalog(roles_dir)
    old = _load_policy(old_dir, catalog)
    new = _load_policy(new_dir, catalog)
    changes = review.diff_policies(old, new)
    for change in changes:
        click.echo(str(change))

    old_display = review.display_path(old_dir)
    new_display = review.display_path(new_dir)
    if not changes:
        click.echo(f"No cell differs between {old_display} and {new_display}.")
        return
    granted = sum(change.granted for change in changes)
    click.echo(
        f"{_count(len(changes), 'cell')} changed from {old_display} to {new_display}: "
        f"{granted} granted, {len(changes) - granted} revoked."
    )
    click.get_current_context().exit(1)
