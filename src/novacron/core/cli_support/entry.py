"""The console-script entry point: run a Typer app so that every failure is one line.

Typer's standalone mode prints click's multi-line, boxed usage errors. ``run_app`` runs
the app with ``standalone_mode=False`` and turns what comes out into exit codes:

    usage error (bad option value, missing option, unknown command) → ``error: …``, exit 2
    other click error                                             → ``error: …``, its code
    Abort (Ctrl-C or EOF at a prompt)                             → ``error: aborted``, 130
    KeyboardInterrupt                                             → exit 130
    Exit(code) (``--help``, ``--version``, ``typer.Exit``)        → that code
    anything else (last resort)                                   → ``format_error``, exit 1

Typer ships its own copy of click (``typer._click``): its exceptions are not
``click.ClickException``s but ``typer.TyperException``s, so they are caught as such.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from novacron.core.cli_support.errors import fail, format_error

# Pydantic error types (typer validates option values with pydantic) → a plain noun.
_NOT_A_VALID = {
    "int_parsing": "integer",
    "int_type": "integer",
    "int_from_float": "integer",
    "float_parsing": "number",
    "float_type": "number",
    "bool_parsing": "boolean",
    "bool_type": "boolean",
}


def _plain_bad_parameter(exc: typer.BadParameter) -> str | None:
    """``'abc' is not a valid integer`` for typer's pydantic wording, else None."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    try:
        first: dict[str, Any] = errors()[0]
    except Exception:
        return None
    noun = _NOT_A_VALID.get(str(first.get("type")))
    if noun is not None and "input" in first:
        return f"{first['input']!r} is not a valid {noun}"
    msg = str(first.get("msg") or "")
    if first.get("type") == "value_error" and msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return None


def format_usage_error(exc: typer.TyperException) -> str:
    """Click's message as one lower-case line without the final full stop, e.g.
    ``invalid value for '--vcpus': 'abc' is not a valid integer``."""
    if isinstance(exc, typer.BadParameter):
        plain = _plain_bad_parameter(exc)
        if plain is not None:
            exc.message = plain
    text = " ".join(exc.format_message().split()).rstrip(".")
    if text[1:2].islower():
        text = text[:1].lower() + text[1:]
    return text or type(exc).__name__


OUTPUT_FORMATS = ("table", "json")


def hoist_output_option(argv: Sequence[str]) -> list[str]:
    """Move ``--output FORMAT`` / ``-o FORMAT`` / ``--output=FORMAT`` given after the
    sub-command to the front, where the root command reads it: users type
    ``novacron corporate targets list --output json`` as often as ``novacron -o json …``.
    Only a known format moves, and nothing after ``--`` (positional arguments)."""
    args, hoisted, rest = list(argv), [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        value = arg.partition("=")[2] if arg.startswith("--output=") else None
        if value in OUTPUT_FORMATS:
            hoisted += ["--output", value]
        elif arg in ("--output", "-o") and i + 1 < len(args) and args[i + 1] in OUTPUT_FORMATS:
            hoisted += ["--output", args[i + 1]]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return hoisted[-2:] + rest


def run_app(app: typer.Typer, argv: Sequence[str] | None = None) -> None:
    """Run ``app`` on ``argv`` (default: ``sys.argv[1:]``); exits non-zero on failure."""
    command = typer.main.get_command(app)
    args = hoist_output_option(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, standalone_mode=False)
    except typer.Abort:
        fail("aborted", 130)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `novacron` alone: the help
            # Typer's rich help printed itself when the error was made; plain help did not.
            text = exc.format_message()
            if text.strip():
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
                sys.stdout.flush()
            sys.exit(exc.exit_code)
        fail(format_usage_error(exc), exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # last resort: one line, never a traceback
        fail(format_error(exc))
    # Without standalone mode an ``Exit`` (--help, --version, typer.Exit) comes back as
    # its code; a command that just returns gives None.
    if isinstance(result, int) and not isinstance(result, bool) and result != 0:
        sys.exit(result)
