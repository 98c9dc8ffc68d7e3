"""``novacron pki …``: NovaCron's CA, one-time agent enrolment tokens, agent certificates
(platform admins).

    novacron pki ca [--pem]                          fingerprint (what agents pin), validity
    novacron pki token create [--ttl 1h] [--for NAME]
    novacron pki token list [--all] | revoke ID
    novacron pki certs [--agent NAME] [--valid]
    novacron pki revoke SERIAL                       the agent is cut off if it was its last

Against an https server with NovaCron's own CA, point the CLI at the CA file:
``SSL_CERT_FILE=<data_dir>/tls/ca.crt novacron --url https://… pki ca``.
"""

from __future__ import annotations

import re
import sys
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
from novacron.core.errors import Invalid
from novacron.security.cli_common import fmt_when

pki_app = typer.Typer(help="NovaCron's CA, agent enrolment tokens and certificates (admins).")
token_app = typer.Typer(help="One-time tokens with which a new agent enrols for a certificate.")

_TTL = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

TOKEN_COLUMNS: list[Column] = [
    ("id", "id"),
    ("state", "state"),
    ("for", lambda t: t.get("for_name") or "any agent"),
    ("expires", lambda t: fmt_when(t.get("expires_at"))),
    ("used by", lambda t: t.get("used_by") or "-"),
    ("created by", lambda t: t.get("created_by") or "-"),
]

CERT_COLUMNS: list[Column] = [
    ("serial", "serial"),
    ("agent", "agent_name"),
    ("state", "state"),
    ("issued", lambda c: fmt_when(c.get("issued_at"))),
    ("not after", lambda c: fmt_when(c.get("not_after"))),
    ("revoked", lambda c: fmt_when(c.get("revoked_at"))),
]


def parse_ttl(value: str) -> int:
    """``90s``, ``30m``, ``1h``, ``7d`` (or plain seconds) → seconds."""
    match = _TTL.match(value.strip().lower())
    if not match:
        raise Invalid(f"--ttl: {value!r} is not a duration: use e.g. 30m, 1h, 7d")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


@pki_app.command("ca")
@handle_errors
def ca_show(
    ctx: typer.Context,
    pem: bool = typer.Option(False, "--pem", help="Print the CA certificate (PEM) only"),
) -> None:
    """The CA: its fingerprint is what `novacron agent --ca-fingerprint` pins."""
    cli = get_context(ctx)
    with cli.client() as api:
        ca = api.get("/security/pki/ca")
    if pem:
        sys.stdout.write(ca["certificate"])
        sys.stdout.flush()
        return
    if cli.json:
        print_json(ca)
        return
    sys.stdout.write(
        f"fingerprint   {ca['fingerprint']}\n"
        f"subject       {ca['subject']}\n"
        f"valid         {fmt_when(ca['not_before'])} .. {fmt_when(ca['not_after'])}\n"
        f"tls           {'on' if ca['tls'] else 'off'}\n"
        f"client certs  {ca['client_certs']}\n"
    )
    sys.stdout.flush()


@token_app.command("create")
@handle_errors
def token_create(
    ctx: typer.Context,
    ttl: str = typer.Option("1h", "--ttl", help="Lifetime: 30m, 1h, 7d … (at most 30d)"),
    for_name: str | None = typer.Option(None, "--for", help="Only agent NAME may use it"),
) -> None:
    """A one-time enrolment token. Its secret is printed once, on stdout."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"ttl_seconds": parse_ttl(ttl)}
    if for_name:
        body["for_name"] = for_name
    with cli.client() as api:
        created = api.post("/security/pki/tokens", json=body)
    if cli.json:
        print_json(created)
    else:
        who = f"agent {created['for_name']}" if created.get("for_name") else "any agent"
        _err(
            f"created enrolment token {created['id']} for {who}, "
            f"expires {fmt_when(created.get('expires_at'))} UTC"
        )
        sys.stdout.write(f"{created['token']}\n")
        sys.stdout.flush()
        fingerprint = created.get("ca_fingerprint") or "sha256:…"
        _err(
            f"on the new host: novacron agent --server {cli.url} --ca-fingerprint "
            f"{fingerprint} --name {created.get('for_name') or 'NAME'} --enrol-token <token>"
        )
    _err("warning: this is the only time the token is shown; it works once")


@token_app.command("list")
@handle_errors
def token_list(
    ctx: typer.Context,
    show_all: bool = typer.Option(False, "--all", help="Also used, expired and revoked ones"),
) -> None:
    """Enrolment tokens (never their secrets)."""
    cli = get_context(ctx)
    with cli.client() as api:
        tokens: list[dict[str, Any]] = api.get("/security/pki/tokens")
    if not show_all:
        tokens = [t for t in tokens if t["state"] == "valid"]
    render(cli, tokens, TOKEN_COLUMNS, empty="no enrolment tokens")


@token_app.command("revoke")
@handle_errors
def token_revoke(
    ctx: typer.Context, token_id: str = typer.Argument(..., help="Token id (enr-…)")
) -> None:
    """Revoke an enrolment token that has not been used yet."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/security/pki/tokens/{seg(token_id)}")
    message(cli, f"revoked enrolment token {token_id}", {"id": token_id, "revoked": True})


@pki_app.command("certs")
@handle_errors
def certs_list(
    ctx: typer.Context,
    agent: str | None = typer.Option(None, "--agent", help="Only this agent's"),
    valid: bool = typer.Option(False, "--valid", help="Only those neither revoked nor expired"),
) -> None:
    """Agent certificates the CA issued, newest first."""
    cli = get_context(ctx)
    params: dict[str, Any] = {"agent": agent, "valid": valid or None}
    with cli.client() as api:
        certs = api.get("/security/pki/certs", params=params)
    render(cli, certs, CERT_COLUMNS, empty="no agent certificates")


@pki_app.command("revoke")
@handle_errors
def cert_revoke(
    ctx: typer.Context, serial: str = typer.Argument(..., help="Certificate serial (hex)")
) -> None:
    """Revoke an agent certificate; refused at once. An agent left without a valid
    certificate is cut off (its tokens are revoked) until it enrols again."""
    cli = get_context(ctx)
    with cli.client() as api:
        revoked = api.delete(f"/security/pki/certs/{seg(serial)}")
    tail = "; the agent is cut off until it enrols again" if revoked["cut_off"] else ""
    message(
        cli, f"revoked certificate {revoked['serial']} of {revoked['agent_name']}{tail}", revoked
    )


def register(app: typer.Typer) -> None:
    """Add the pki commands to the root CLI."""
    pki_app.add_typer(token_app, name="token")
    app.add_typer(pki_app, name="pki")
