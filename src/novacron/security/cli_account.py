"""``novacron mfa …`` and ``novacron token …``: your second factor and your API tokens.

Secrets the server shows once (the TOTP secret, recovery codes, a new token) are printed
once and never stored by the CLI.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import typer

from novacron.core.cli_support import (
    ApiClient,
    CLIContext,
    Column,
    get_context,
    handle_errors,
    message,
    parse_time,
    print_json,
    render,
    seg,
)
from novacron.core.errors import NotFound, NovaCronError
from novacron.security.cli_common import PASSWORD_STDIN, fmt_when, read_secret

mfa_app = typer.Typer(help="Two-factor authentication (TOTP) of your account.")
token_app = typer.Typer(help="Your API tokens: for scripts, scoped, expiring.")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _print_codes(cli: CLIContext, intro: str, codes: list[str], data: dict[str, Any]) -> None:
    if cli.json:
        print_json(data)
        return
    lines = [intro, *(f"  {c}" for c in codes)]
    lines.append("Store them somewhere safe: they are shown only this once.")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


# -- mfa -------------------------------------------------------------------------------------


def _confirm(api: ApiClient, code: str) -> list[str]:
    answer = api.post("/auth/totp/confirm", json={"code": code.strip().replace(" ", "")})
    return list(answer["recovery_codes"])


@mfa_app.command("setup")
@handle_errors
def mfa_setup(
    ctx: typer.Context,
    no_confirm: bool = typer.Option(
        False, "--no-confirm", help="Only print the secret; confirm later with mfa confirm CODE"
    ),
) -> None:
    """Turn on two-factor sign-in: add the printed secret to an authenticator app, then
    enter the code it shows. Prints your recovery codes once."""
    cli = get_context(ctx)
    with cli.client() as api:
        setup = api.post("/auth/totp/setup")
        # In JSON mode stdout carries one document only: the instructions go to stderr.
        say = _err if cli.json else typer.echo
        say("Add this account to your authenticator app (scan the URI or type the secret):")
        say(f"  URI:    {setup['uri']}")
        say(f"  secret: {setup['secret']}")
        if no_confirm:
            say("Then run: novacron mfa confirm CODE")
            if cli.json:
                print_json(setup)
            return
        code: str = typer.prompt("Code from the app", err=True)
        codes = _confirm(api, code)
    _print_codes(
        cli,
        "Two-factor authentication is on. Recovery codes (each signs in once):",
        codes,
        {**setup, "recovery_codes": codes},
    )


@mfa_app.command("confirm")
@handle_errors
def mfa_confirm(
    ctx: typer.Context, code: str = typer.Argument(..., help="The code the app shows")
) -> None:
    """Finish mfa setup --no-confirm with a code from the app."""
    cli = get_context(ctx)
    with cli.client() as api:
        codes = _confirm(api, code)
    _print_codes(
        cli,
        "Two-factor authentication is on. Recovery codes (each signs in once):",
        codes,
        {"recovery_codes": codes},
    )


@mfa_app.command("disable")
@handle_errors
def mfa_disable(ctx: typer.Context, password_stdin: bool = PASSWORD_STDIN) -> None:
    """Turn two-factor sign-in off (asks for your password)."""
    cli = get_context(ctx)
    body = {"password": read_secret(password_stdin, "Password")}
    with cli.client() as api:
        api.post("/auth/totp/disable", json=body)
    message(cli, "two-factor authentication is off", {"mfa_enabled": False})


@mfa_app.command("recovery-codes")
@handle_errors
def mfa_recovery_codes(ctx: typer.Context, password_stdin: bool = PASSWORD_STDIN) -> None:
    """Replace your recovery codes (asks for your password; the old codes stop working)."""
    cli = get_context(ctx)
    body = {"password": read_secret(password_stdin, "Password")}
    with cli.client() as api:
        answer = api.post("/auth/recovery-codes", json=body)
    codes = list(answer["recovery_codes"])
    _print_codes(cli, "New recovery codes (the old ones no longer work):", codes, answer)


# -- tokens ----------------------------------------------------------------------------------


def token_state(token: dict[str, Any], now: datetime | None = None) -> str:
    if token.get("revoked_at"):
        return "revoked"
    expires = parse_time(token.get("expires_at"))
    if expires is not None and expires <= (now or datetime.now(UTC)):
        return "expired"
    return "active"


TOKEN_COLUMNS: list[Column] = [
    ("id", "id"),
    ("name", "name"),
    ("prefix", "prefix"),
    ("scopes", "scopes"),
    ("project", "project_id"),
    ("state", token_state),
    ("expires", lambda t: fmt_when(t.get("expires_at"))),
    ("last used", lambda t: fmt_when(t.get("last_used_at"))),
]


@token_app.command("list")
@handle_errors
def token_list(
    ctx: typer.Context,
    show_all: bool = typer.Option(False, "--all", help="Also revoked and expired tokens"),
) -> None:
    """Your API tokens (never their secrets)."""
    cli = get_context(ctx)
    with cli.client() as api:
        tokens = api.get("/tokens")
    if not show_all:
        tokens = [t for t in tokens if token_state(t) == "active"]
    render(cli, tokens, TOKEN_COLUMNS, empty="no tokens")


@token_app.command("create")
@handle_errors
def token_create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="What the token is for"),
    scope: list[str] | None = typer.Option(
        None,
        "--scope",
        help="Repeatable: '*' (default) or <resource>:<action>, e.g. compute:read",
    ),
    project: str | None = typer.Option(
        None, "--project", help="Bind the token to this project (name or id)"
    ),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", help="Lifetime in days, 1-365 (default 90)"
    ),
) -> None:
    """Create a token. Its secret is printed once, on stdout; nothing else goes there."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"name": name}
    if scope:
        body["scopes"] = scope
    if project:
        body["project"] = project
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    with cli.client() as api:
        created = api.post("/tokens", json=body)
    if cli.json:
        print_json(created)
    else:
        _err(
            f"created token {created['name']} ({created['id']}), scopes"
            f" {', '.join(created['scopes'])}, expires {fmt_when(created.get('expires_at'))} UTC"
        )
        sys.stdout.write(f"{created['token']}\n")
        sys.stdout.flush()
    _err("warning: this is the only time the token is shown: store it now")


def _find_token(api: ApiClient, ref: str) -> dict[str, Any]:
    """A token of yours by id, or by name when exactly one active token has it."""
    tokens: list[dict[str, Any]] = api.get("/tokens")
    for token in tokens:
        if token["id"] == ref:
            return token
    named = [t for t in tokens if t["name"] == ref and token_state(t) == "active"]
    if len(named) > 1:
        raise NovaCronError(f"{len(named)} active tokens are named {ref!r}: revoke one by its id")
    if not named:
        raise NotFound(f"no token {ref!r} of yours")
    return named[0]


@token_app.command("revoke")
@handle_errors
def token_revoke(
    ctx: typer.Context, token: str = typer.Argument(..., help="Token id (or its name)")
) -> None:
    """Revoke a token: it stops working at once."""
    cli = get_context(ctx)
    with cli.client() as api:
        found = _find_token(api, token)
        api.delete(f"/tokens/{seg(found['id'])}")
    message(
        cli,
        f"revoked token {found['name']} ({found['id']})",
        {"id": found["id"], "name": found["name"], "revoked": True},
    )


def register(app: typer.Typer) -> None:
    app.add_typer(mfa_app, name="mfa")
    app.add_typer(token_app, name="token")
