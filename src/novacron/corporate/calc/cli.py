"""``novacron corporate calc KIND``: the finance engine from the command line.

The CLI is a client of ``POST /api/v1/corporate/calc/{kind}``, so it computes exactly
what the API and the M&A valuation models compute:

    novacron corporate calc                                  # the kinds
    novacron corporate calc dcf --input model.json           # or --input - for stdin
    novacron corporate calc irr -- -100 39 59 55 20
    novacron corporate calc npv --rate 0.1 --timing end -- -10000 3000 4200 6800
    novacron --output json corporate calc irr -- -100 39 59 55 20

Cash flows after ``--`` (so negative numbers are not read as options) fill
``cashflows``; the options fill their own input fields and override the file's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from novacron.core.cli_support import get_context, handle_errors, message, render, seg
from novacron.core.errors import Invalid, NovaCronError
from novacron.corporate.calc.formatting import readable


def _read_input(source: str) -> dict[str, Any]:
    """The JSON object in ``source`` (a path, or ``-`` for stdin)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise NovaCronError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Invalid(
            f"{source} is not valid JSON: {exc}", errors=[{"loc": ["input"], "msg": str(exc)}]
        ) from None
    if not isinstance(data, dict):
        raise Invalid(
            f"{source} must hold a JSON object of inputs",
            errors=[{"loc": ["input"], "msg": "not a JSON object"}],
        )
    return data


def build_inputs(
    kind: str,
    values: list[float] | None,
    source: str | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The inputs: the file's object, then the cash flows, then the options given."""
    inputs = _read_input(source) if source else {}
    if values:  # a kind without cash flows refuses them, naming inputs.cashflows
        inputs["cashflows"] = values
    inputs.update({k: v for k, v in options.items() if v is not None})
    return inputs


def calc(
    ctx: typer.Context,
    kind: str | None = typer.Argument(None, help="What to compute; omit to list the kinds"),
    values: list[float] | None = typer.Argument(
        None, help="Cash flows (after --), e.g. -- -100 39 59 55 20"
    ),
    source: str | None = typer.Option(
        None, "--input", "-i", help="JSON file of inputs, or - for stdin"
    ),
    rate: float | None = typer.Option(None, "--rate", help="Discount rate per period"),
    timing: str | None = typer.Option(
        None, "--timing", help="npv: t0 (first flow now) or end (Excel NPV)"
    ),
    finance_rate: float | None = typer.Option(None, "--finance-rate", help="mirr"),
    reinvest_rate: float | None = typer.Option(None, "--reinvest-rate", help="mirr"),
    currency: str | None = typer.Option(None, "--currency", help="Tag the figures, e.g. USD"),
) -> None:
    """Compute a valuation (NPV, IRR, DCF, comps, accretion/dilution …) on the server."""
    cli = get_context(ctx)
    with cli.client() as api:
        if kind is None:
            render(cli, api.get("/corporate/calc"), [("kind", "kind"), ("about", "description")])
            return
        options = {
            "rate": rate,
            "timing": timing,
            "finance_rate": finance_rate,
            "reinvest_rate": reinvest_rate,
            "currency": currency,
        }
        inputs = build_inputs(kind, values, source, options)
        result = api.post(f"/corporate/calc/{seg(kind)}", json=inputs)
    message(cli, readable(kind, result), result)


def register(corporate: typer.Typer) -> None:
    """Add ``calc`` to ``novacron corporate``."""
    corporate.command("calc")(handle_errors(calc))
