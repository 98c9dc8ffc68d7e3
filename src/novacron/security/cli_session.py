"""``novacron login | logout | whoami | password``: signing the CLI in and out.

``login`` signs in like the web page does (password, then a second factor when the server
asks for one), trades the short web session for an API token of the CLI's own
(``cli@<host>``, every scope, 30 days), signs the web session out again and stores the
token for later commands (``novacron.core.cli_support.credentials``). The password never
touches the disk; the token is shown to nobody.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from typing import Any

import typer

from novacron.core.cli_support import (
    ApiClient,
    LoginInfo,
    find_token,
    forget_login,
    get_context,
    handle_errors,
    login_token_path,
    message,
    print_json,
    problem_slug,
    read_login_info,
    read_login_token,
    render_object,
    save_login,
    seg,
)
from novacron.core.cli_support.output import _console
from novacron.core.errors import Invalid, NotFound, NovaCronError, Unauthorized
from novacron.security.cli_common import PASSWORD_STDIN, fmt_when, read_line, read_secret

CSRF_HEADER = "X-CSRF-Token"
LOGIN_TOKEN_DAYS = 30
MFA_REQUIRED = "mfa-required"
NO_PASSWORD = "-"
"""Sent as the current password by users who have none yet (the server ignores it then)."""


def token_name() -> str:
    return f"cli@{socket.gethostname() or 'localhost'}"[:128]


def _second_factor(code: str | None, from_stdin: bool) -> str:
    if code:
        return code
    if from_stdin:  # non-interactive: the line after the password
        line = sys.stdin.readline().strip()
        if not line:
            raise Invalid(
                "two-factor authentication is on: pass --code, or put the code on the"
                " line after the password"
            )
        return line
    value: str = typer.prompt("Two-factor code (or a recovery code)", err=True)
    return value.strip()


def _sign_in(api: ApiClient, name: str, password: str, code: str | None, stdin: bool) -> Any:
    body: dict[str, Any] = {"name": name, "password": password}
    if code:
        body["code"] = code
    response = api.send("POST", "/auth/login", json=body)
    if response.status_code == 401 and problem_slug(response) == MFA_REQUIRED and not code:
        body["code"] = _second_factor(None, stdin)
        response = api.send("POST", "/auth/login", json=body)
    return api.decode(response)


def _revoke_quietly(info: LoginInfo | None, secret: str | None) -> None:
    """Revoke the token a new login replaces: it would stay valid, unused, for weeks."""
    if info is None or not secret:
        return
    try:
        with ApiClient(info.url, secret, timeout=5.0) as api:
            api.delete(f"/tokens/{seg(info.token_id)}")
    except NovaCronError:
        pass  # expired, revoked, or its server is gone: nothing left to protect


@handle_errors
def login(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", "-u", help="User name (else asked)"),
    password_stdin: bool = PASSWORD_STDIN,
    code: str | None = typer.Option(
        None, "--code", help="Two-factor or recovery code (else asked when needed)"
    ),
) -> None:
    """Sign in with your password and store an API token for later commands."""
    cli = get_context(ctx)
    name = (user or "").strip() or str(typer.prompt("User", err=True)).strip()
    password = read_secret(password_stdin, "Password")
    with cli.anonymous_client() as api:
        signed_in = _sign_in(api, name, password, code, password_stdin)
        csrf = {CSRF_HEADER: str(signed_in["csrf_token"])}
        try:
            created = api.request(
                "POST",
                "/tokens",
                json={
                    "name": token_name(),
                    "scopes": ["*"],
                    "expires_in_days": LOGIN_TOKEN_DAYS,
                },
                headers=csrf,
            )
        finally:
            # The CLI only needed the web session to mint the token.
            with contextlib.suppress(NovaCronError):
                api.send("POST", "/auth/logout", headers=csrf)
    try:
        previous = (read_login_info(), read_login_token())
    except NovaCronError:
        previous = (None, None)
    info = LoginInfo(
        token_id=str(created["id"]),
        user=str(signed_in["user"]),
        url=cli.url.rstrip("/"),
        expires_at=created.get("expires_at"),
    )
    path = save_login(str(created["token"]), info)
    if previous[0] is not None and previous[0].token_id != info.token_id:
        _revoke_quietly(*previous)
    message(
        cli,
        f"signed in to {info.url} as {info.user}; token {created['name']} stored in {path}"
        f" (expires {fmt_when(info.expires_at)} UTC)",
        {
            "user": info.user,
            "url": info.url,
            "token_id": info.token_id,
            "token_name": created["name"],
            "expires_at": info.expires_at,
            "path": str(path),
        },
    )


def _token_id(api: ApiClient, info: LoginInfo | None, secret: str) -> str:
    """The stored token's id: from ``login.json``, else found by its prefix."""
    if info is not None:
        return info.token_id
    mine = [
        t
        for t in api.get("/tokens")
        if t.get("prefix") == secret[:8] and t.get("revoked_at") is None
    ]
    if len(mine) != 1:
        raise NovaCronError(
            f"cannot tell which token {login_token_path()} holds: revoke it with"
            " novacron token revoke, then delete the file"
        )
    return str(mine[0]["id"])


@handle_errors
def logout(ctx: typer.Context) -> None:
    """Revoke the token novacron login stored and delete it."""
    cli = get_context(ctx)
    path = login_token_path()
    secret = read_login_token()
    if secret is None:
        forget_login()
        message(cli, f"not signed in (no token at {path})", {"revoked": False, "path": str(path)})
        return
    info = read_login_info()
    url = info.url if info is not None else cli.url
    revoked = True
    try:
        with ApiClient(url, secret) as api:
            api.delete(f"/tokens/{seg(_token_id(api, info, secret))}")
    except (Unauthorized, NotFound):
        revoked = False  # expired or already revoked: it opens nothing any more
    forget_login()
    text = "signed out: token revoked" if revoked else "signed out: the token was no longer valid"
    message(cli, f"{text}; {path} removed", {"revoked": revoked, "path": str(path)})


@handle_errors
def whoami(ctx: typer.Context) -> None:
    """Who the CLI acts as, in which project, with which roles."""
    cli = get_context(ctx)
    with cli.client() as api:
        me = api.get("/auth/whoami")
    if cli.json:
        print_json(me)
        return
    projects = me.get("projects") or []
    names = {p.get("id"): p.get("name") for p in projects}
    current = me.get("project")
    shown = {
        "user": me.get("name"),
        "platform admin": me.get("platform_admin"),
        "project": f"{names[current]} ({current})" if current in names else current,
        "roles": "; ".join(f"{p['name']}: {', '.join(p.get('roles') or [])}" for p in projects),
        "scopes": me.get("scopes"),
        "two-factor": "on" if me.get("mfa_enabled") else "off",
        "via": me.get("via"),
        "credentials": find_token(cli.token).source,
    }
    render_object(_console(), shown)
    if me.get("must_change_password"):
        sys.stdout.write("your password was reset: change it with novacron password\n")


@handle_errors
def password(ctx: typer.Context, password_stdin: bool = PASSWORD_STDIN) -> None:
    """Change your password (asks for the current one, then the new one twice).

    With --password-stdin: the current password on the first line, the new one on the
    second. Every web session of yours ends; API tokens keep working."""
    cli = get_context(ctx)
    if password_stdin:
        current = sys.stdin.readline().rstrip("\r\n")  # empty: the user has none yet
        new = read_line("new password")
    else:
        current = typer.prompt(
            "Current password (empty if you have none)",
            hide_input=True,
            default="",
            show_default=False,
            err=True,
        )
        new = read_secret(False, "New password", confirm=True)
    body = {"current_password": current or NO_PASSWORD, "new_password": new}
    with cli.client() as api:
        api.post("/auth/password", json=body)
    message(cli, "password changed", {"changed": True})


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.command("password")(password)


__all__ = ["login", "logout", "password", "register", "token_name", "whoami"]
