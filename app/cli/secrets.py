"""`usersecrets secrets`: manage the caller's own secrets on a running server, over the SDK.

Values are read from stdin or a file, never from the command line, where `ps` and shell
history would show them, and no command prints a value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import click

from app.sdk import UNSET, APIError, Client, ConnectionFailed, Secret
from app.sdk.client import Unset
from app.secrets.validation import VALUE_MAX_BYTES

URL_VARIABLE = "USERSECRETS_URL"
TOKEN_VARIABLE = "USERSECRETS_TOKEN"  # noqa: S105 (a variable name, not a token)
DEFAULT_URL = "http://127.0.0.1:8080"

STRIP_NEWLINE_HELP = (
    "Remove one trailing line ending (\\n or \\r\\n) from the value, as `echo` and most "
    "editors add one. Without this option the value is stored byte for byte."
)


@dataclass(frozen=True)
class ServerOptions:
    url: str
    token: str | None


class RequestFailed(click.ClickException):
    """An API error, shown as the server's message, its detail and each failing field."""

    exit_code = 1

    def __init__(self, error: APIError) -> None:
        super().__init__(error.message)
        self.error = error

    def show(self, file: IO[Any] | None = None) -> None:
        lines = [f"Error: {self.error.message}"]
        if self.error.detail:
            lines.append(f"  {self.error.detail}")
        lines.extend(f"  {failure.field}: {failure.detail}" for failure in self.error.validations)
        click.echo("\n".join(lines), err=True)


F = TypeVar("F", bound=Callable[..., Any])


def server_options(command: F) -> F:
    """Add the --url and --token options that every command talking to a server takes."""
    command = click.option(
        "--token",
        envvar=TOKEN_VARIABLE,
        default=None,
        show_envvar=True,
        metavar="TOKEN",
        help=(
            f"API token. Prefer setting {TOKEN_VARIABLE}: an option is visible to other "
            "users in `ps` and is kept in shell history."
        ),
    )(command)
    return click.option(
        "--url",
        envvar=URL_VARIABLE,
        default=DEFAULT_URL,
        show_default=True,
        show_envvar=True,
        metavar="URL",
        help="Base URL of the usersecrets server.",
    )(command)


@click.group()
@server_options
@click.pass_context
def secrets(ctx: click.Context, url: str, token: str | None) -> None:
    """Create, list, update and delete your secrets on a usersecrets server.

    Commands read a secret's value from stdin or --value-file, never from an argument,
    and never print a value: the server does not return values.
    """
    ctx.obj = ServerOptions(url=url, token=token)


@contextlib.contextmanager
def open_client() -> Iterator[Client]:
    """Yield an SDK client for the group's server, turning SDK errors into exit status 1."""
    options = click.get_current_context().find_object(ServerOptions)
    if options is None or not options.token:
        raise click.UsageError(f"no API token: set {TOKEN_VARIABLE} or pass --token")
    with Client(options.url, options.token) as client:
        try:
            yield client
        except APIError as error:
            raise RequestFailed(error) from None
        except ConnectionFailed as error:
            raise click.ClickException(
                f"{error}. Check that the server runs at {options.url} "
                f"(set by --url or {URL_VARIABLE})."
            ) from None


def read_value(source: IO[bytes], strip_newline: bool) -> str:
    """Read a secret value from `source` as UTF-8 text.

    On a terminal, the value is asked for with hidden input. From a pipe or file,
    reading stops just past the size limit, so an endless stream fails fast instead of
    filling memory. The SDK checks the exact limit after any line ending is stripped.
    """
    if source.isatty():
        # Hidden input: the value does not show on screen or in the scrollback.
        typed: str = click.prompt("Value", hide_input=True, confirmation_prompt=True, err=True)
        return typed
    # Room for a line ending that --strip-newline removes, plus one byte to detect excess.
    data = source.read(VALUE_MAX_BYTES + 3)
    if len(data) > VALUE_MAX_BYTES + 2:
        raise click.ClickException(
            f"the value is too large: a secret is at most {VALUE_MAX_BYTES} bytes"
        )
    try:
        value = data.decode("utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(
            "the value is not valid UTF-8 text: a secret must be text, so encode "
            "binary data first, for example with base64"
        ) from None
    if strip_newline and value.endswith("\n"):
        value = value.removesuffix("\n").removesuffix("\r")
    return value


def printable(text: str) -> str:
    """Replace characters that are not printable, so server text cannot drive the terminal."""
    return "".join(character if character.isprintable() else "?" for character in text)


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_version(version: int | None) -> str:
    return "-" if version is None else str(version)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_table(rows: list[list[str]]) -> None:
    """Print rows as columns separated by two spaces; the first row is the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


@secrets.command("create")
@click.argument("name")
@click.option("--description", default="", help="Free text shown in listings.")
@click.option(
    "--env",
    "env_name",
    default="",
    metavar="NAME",
    help="Environment variable that receives the value when secrets are injected.",
)
@click.option(
    "--file",
    "file_path",
    default="",
    metavar="PATH",
    help="File (absolute, or under ~/) that receives the value when secrets are injected.",
)
@click.option(
    "--value-file",
    type=click.File("rb"),
    default="-",
    show_default=True,
    help="File to read the value from; '-' is stdin.",
)
@click.option("--strip-newline", is_flag=True, help=STRIP_NEWLINE_HELP)
def create_secret(
    name: str,
    description: str,
    env_name: str,
    file_path: str,
    value_file: IO[bytes],
    strip_newline: bool,
) -> None:
    """Create the secret NAME with the value read from stdin or --value-file.

    On a terminal, the value is asked for with hidden input. From a pipe or a file, the
    value is stored byte for byte, a trailing newline included; --strip-newline removes
    one.

    \b
    Examples:
      printf %s "$VALUE" | usersecrets secrets create db-password --env DB_PASSWORD
      echo "$VALUE" | usersecrets secrets create db-password --strip-newline
      usersecrets secrets create tls-key --file ~/.tls/key.pem --value-file key.pem
    """
    value = read_value(value_file, strip_newline)
    with open_client() as client:
        secret = client.create_secret(
            name, value, description=description, env_name=env_name, file_path=file_path
        )
    click.echo(f"Created secret {printable(secret.name)!r}, version {secret.version}.")


@secrets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of metadata objects.")
def list_secrets(as_json: bool) -> None:
    """List your secrets, sorted by name: metadata only, never values."""
    with open_client() as client:
        found = client.list_secrets()
    if as_json:
        echo_json([secret.to_json() for secret in found])
        return
    if not found:
        click.echo("No secrets.", err=True)
        return
    rows = [["NAME", "VERSION", "ENV", "FILE", "UPDATED", "DESCRIPTION"]]
    rows.extend(
        [
            printable(secret.name),
            format_version(secret.version),
            printable(secret.env_name),
            printable(secret.file_path),
            format_time(secret.updated_at),
            printable(secret.description),
        ]
        for secret in found
    )
    echo_table(rows)


@secrets.command("get")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON metadata object.")
def get_secret(name: str, as_json: bool) -> None:
    """Show the metadata of the secret NAME. The value is never shown."""
    with open_client() as client:
        secret = client.get_secret(name)
    if as_json:
        echo_json(secret.to_json())
        return
    echo_fields(secret)


def echo_fields(secret: Secret) -> None:
    fields = [
        ("name", printable(secret.name)),
        ("id", str(secret.id)),
        ("version", format_version(secret.version)),
        ("env_name", printable(secret.env_name)),
        ("file_path", printable(secret.file_path)),
        ("description", printable(secret.description)),
        ("created_at", format_time(secret.created_at)),
        ("updated_at", format_time(secret.updated_at)),
    ]
    for label, text in fields:
        click.echo(f"{label + ':':<13}{text}".rstrip())


@secrets.command("update")
@click.argument("name")
@click.option("--description", default=None, help="New description; '' clears it.")
@click.option(
    "--env",
    "env_name",
    default=None,
    metavar="NAME",
    help="New environment variable name; '' stops injection as a variable.",
)
@click.option(
    "--file",
    "file_path",
    default=None,
    metavar="PATH",
    help="New file path; '' stops injection as a file.",
)
@click.option(
    "--value-file",
    type=click.File("rb"),
    default=None,
    help="Replace the value with the contents of this file; '-' is stdin.",
)
@click.option("--value-stdin", is_flag=True, help="Replace the value with stdin.")
@click.option("--strip-newline", is_flag=True, help=STRIP_NEWLINE_HELP)
@click.option(
    "--if-version",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Apply the change only if the secret is still at version N.",
)
def update_secret(
    name: str,
    description: str | None,
    env_name: str | None,
    file_path: str | None,
    value_file: IO[bytes] | None,
    value_stdin: bool,
    strip_newline: bool,
    if_version: int | None,
) -> None:
    """Change fields of the secret NAME. Options left out keep their current values.

    The value changes only with --value-file or --value-stdin.
    """
    if value_file is not None and value_stdin:
        raise click.UsageError("pass --value-file or --value-stdin, not both")
    if value_stdin:
        value_file = sys.stdin.buffer
    if strip_newline and value_file is None:
        raise click.UsageError("--strip-newline needs --value-file or --value-stdin")
    if value_file is None and description is None and env_name is None and file_path is None:
        raise click.UsageError(
            "nothing to change: pass --description, --env, --file, --value-file or --value-stdin"
        )

    value: str | Unset = UNSET if value_file is None else read_value(value_file, strip_newline)
    with open_client() as client:
        secret = client.update_secret(
            name,
            value=value,
            description=UNSET if description is None else description,
            env_name=UNSET if env_name is None else env_name,
            file_path=UNSET if file_path is None else file_path,
            if_version=if_version,
        )
    click.echo(f"Updated secret {printable(secret.name)!r}, now version {secret.version}.")


@secrets.command("delete")
@click.argument("name")
@click.option(
    "--if-version",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Delete only if the secret is still at version N.",
)
def delete_secret(name: str, if_version: int | None) -> None:
    """Delete the secret NAME."""
    with open_client() as client:
        client.delete_secret(name, if_version=if_version)
    click.echo(f"Deleted secret {printable(name)!r}.")
