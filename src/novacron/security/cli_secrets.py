"""``novacron secret …`` (a project's secrets) and ``novacron keys …`` (master keys).

    novacron secret list | set NAME | get NAME | delete NAME
    novacron keys list | rotate | rewrap | retire KEY_ID          (platform admins)

``secret set`` reads the value from ``--from-file`` (byte for byte) or standard input
(one trailing line break dropped, so ``echo value |`` stores ``value``); at a terminal
it asks without echo. ``secret get`` prints the bare value, for ``$(novacron secret get
NAME)``; the value never goes on the command line, where ``ps`` would show it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from novacron.core.cli_support import (
    Column,
    get_context,
    handle_errors,
    message,
    print_json,
    render,
    seg,
)
from novacron.core.errors import Invalid, NovaCronError
from novacron.security.cli_common import fmt_when, yes_no

secret_app = typer.Typer(help="Encrypted secrets of the project (values: project admins).")
keys_app = typer.Typer(help="Master keys that wrap the secrets (platform admins).")

SECRET_COLUMNS: list[Column] = [
    ("name", "name"),
    ("revision", "revision"),
    ("master key", "key_id"),
    ("created by", "created_by"),
    ("updated", lambda s: fmt_when(s.get("updated_at"))),
]
KEY_COLUMNS: list[Column] = [
    ("id", "id"),
    ("current", lambda k: yes_no(k.get("current"))),
    ("secrets", "secrets"),
    ("in keyring", lambda k: yes_no(k.get("in_keyring"))),
]
NAME = typer.Argument(..., help="Secret name (letters, digits, '_', '.', '-', '/')")


def read_value(from_file: Path | None) -> str:
    """The value to store: a file's text, standard input, or a hidden prompt."""
    if from_file is not None:
        try:
            return from_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise Invalid(f"{from_file} is not UTF-8 text") from None
        except OSError as exc:
            raise NovaCronError(f"cannot read {from_file}: {exc.strerror}") from exc
    if sys.stdin.isatty():
        prompted: str = typer.prompt("Value", hide_input=True, err=True)
        return prompted
    text = sys.stdin.read()
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise Invalid("no secret value on standard input")
    return text


# -- secret ----------------------------------------------------------------------------


@secret_app.command("list")
@handle_errors
def secret_list(
    ctx: typer.Context,
    after: str | None = typer.Option(None, "--after", help="Names after this one"),
    limit: int = typer.Option(100, "--limit", help="Secrets per page (1-1000)"),
) -> None:
    """The project's secrets: names and metadata, never values."""
    cli = get_context(ctx)
    with cli.client() as api:
        page = api.get("/secrets", params={"after": after, "limit": limit})
    if cli.json:
        print_json(page)
        return
    render(cli, page["items"], SECRET_COLUMNS, empty="no secrets")
    if page.get("next_after"):
        sys.stdout.write(f"more: --after {page['next_after']}\n")


@secret_app.command("set")
@handle_errors
def secret_set(
    ctx: typer.Context,
    name: str = NAME,
    from_file: Path | None = typer.Option(
        None, "--from-file", help="Read the value from this file (else standard input)"
    ),
) -> None:
    """Create a secret or replace its value."""
    cli = get_context(ctx)
    value = read_value(from_file)
    with cli.client() as api:
        info = api.put(f"/secrets/{seg(name)}", json={"value": value})
    message(cli, f"secret {info['name']} stored (revision {info['revision']})", info)


@secret_app.command("get")
@handle_errors
def secret_get(ctx: typer.Context, name: str = NAME) -> None:
    """Print a secret's value (the read is audited). ``--output json`` adds metadata."""
    cli = get_context(ctx)
    with cli.client() as api:
        secret: dict[str, Any] = api.get(f"/secrets/{seg(name)}", params={"reveal": "true"})
    if cli.json:
        print_json(secret)
        return
    value = str(secret.get("value") or "")
    # A line break for people; none when piped, so the value arrives exactly.
    sys.stdout.write(value + ("\n" if sys.stdout.isatty() else ""))
    sys.stdout.flush()


@secret_app.command("delete")
@handle_errors
def secret_delete(ctx: typer.Context, name: str = NAME) -> None:
    """Delete a secret (for good: there is no undo)."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/secrets/{seg(name)}")
    message(cli, f"secret {name} deleted", {"name": name, "deleted": True})


# -- keys ------------------------------------------------------------------------------


@keys_app.command("list")
@handle_errors
def keys_list(ctx: typer.Context) -> None:
    """Master keys and how many secrets each wraps."""
    cli = get_context(ctx)
    with cli.client() as api:
        keys = api.get("/security/keys")
    if cli.json:
        print_json(keys)
        return
    render(cli, keys["keys"], KEY_COLUMNS, empty="no master keys")
    sys.stdout.write(f"provider: {keys['provider']}, current: {keys['current']}\n")
    if keys.get("unreadable"):
        sys.stdout.write(f"unreadable records: {keys['unreadable']}\n")


@keys_app.command("rotate")
@handle_errors
def keys_rotate(ctx: typer.Context) -> None:
    """Make a new master key current; then run: novacron keys rewrap."""
    cli = get_context(ctx)
    with cli.client() as api:
        out = api.post("/security/keys/rotate")
    message(
        cli,
        f"master key {out['key_id']} is current (was {out['previous']}); "
        "run `novacron keys rewrap` next",
        out,
    )


@keys_app.command("rewrap")
@handle_errors
def keys_rewrap(
    ctx: typer.Context,
    batch_size: int = typer.Option(100, "--batch-size", help="Secrets per batch"),
) -> None:
    """Move every secret to the current master key; exit 1 if any could not be moved."""
    cli = get_context(ctx)
    with cli.client() as api:
        report = api.post("/security/keys/rewrap", json={"batch_size": batch_size})
    if cli.json:
        print_json(report)
    else:
        sys.stdout.write(
            f"rewrapped {report['rewrapped']} of {report['scanned']} secrets to "
            f"{report['current_key']} ({report['already_current']} already on it)\n"
        )
        for line in report["failed"]:
            sys.stdout.write(f"failed: {line}\n")
    if not report["complete"]:
        raise NovaCronError(
            f"{report['failed_count']} secret(s) could not be rewrapped; fix them and run again"
        )


@keys_app.command("retire")
@handle_errors
def keys_retire(
    ctx: typer.Context, key_id: str = typer.Argument(..., help="Master key id (keys list)")
) -> None:
    """Drop an old master key; refused while it is current or still wraps a secret."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/security/keys/{seg(key_id)}")
    message(cli, f"master key {key_id} retired", {"key_id": key_id, "retired": True})


def register(app: typer.Typer) -> None:
    """Add the secrets commands to the root CLI."""
    app.add_typer(secret_app, name="secret")
    app.add_typer(keys_app, name="keys")
