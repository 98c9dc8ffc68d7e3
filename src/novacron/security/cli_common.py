"""What the security commands share: reading secrets, times, small renderers."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from novacron.core.cli_support import fmt_time, parse_time
from novacron.core.errors import Invalid

PASSWORD_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from standard input (one line) instead of asking",
)

_AGO = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def read_line(what: str) -> str:
    """One line of standard input without its line break (spaces are kept: they may be
    part of a password)."""
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise Invalid(f"no {what} on standard input")
    return line


def read_secret(from_stdin: bool, prompt: str, *, confirm: bool = False) -> str:
    """A password from standard input, or asked for without echo (twice with ``confirm``).
    Prompts go to stderr so that ``--output json`` keeps stdout to one document."""
    if from_stdin:
        return read_line(prompt.lower())
    value: str = typer.prompt(
        prompt,
        hide_input=True,
        confirmation_prompt=f"Repeat the {prompt.lower()}" if confirm else False,
        err=True,
    )
    return value


def time_option(value: str | None, option: str, now: datetime | None = None) -> str | None:
    """``--since``/``--until``: ISO 8601 (a date or a time; UTC unless it says otherwise)
    or an age such as ``30m``, ``24h``, ``7d``; returned as ISO 8601 UTC for the API."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = _AGO.match(text)
    if match:
        ago = timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2)])
        moment = (now or datetime.now(UTC)) - ago
    else:
        parsed = parse_time(text)
        if parsed is None:
            raise Invalid(
                f"{option}: {value!r} is not a time: use ISO 8601 (2024-05-01 or"
                " 2024-05-01T12:00:00Z) or an age such as 30m, 24h, 7d"
            )
        moment = parsed
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fmt_when(value: Any) -> str:
    return fmt_time(value) if value else "-"


def yes_no(value: Any) -> str:
    return "yes" if value else "no"
