"""CLI: ``novacron corporate dashboard`` (pipelines, value creation, KPIs with their
status, alerts and recommendations) and ``novacron corporate demo`` (load the sample
portfolio). ``--output json`` prints the server's answer unchanged."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from novacron.core.cli_support import get_context, handle_errors, message, render

BASE = "/corporate"
STATUS_STYLE = {"ok": "green", "warning": "yellow", "alert": "red", "no_data": "dim"}
SEVERITY_STYLE = {"critical": "red", "warning": "yellow", "info": "cyan"}


def money(amounts: dict[str, str] | None) -> str:
    """``{"USD": "1250000.00", "EUR": "90000.00"}`` → ``EUR 90,000; USD 1,250,000``."""
    if not amounts:
        return "-"
    return "; ".join(f"{cur} {float(v):,.0f}" for cur, v in sorted(amounts.items()))


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.1f}".removesuffix(".0") if isinstance(value, float) else f"{value:,}"
    return f"{text}%" if unit == "%" else text


def _table(title: str, headers: list[str]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=None, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _pipelines(console: Console, data: dict[str, Any]) -> None:
    ma = data["pipelines"]["ma"]
    table = _table("M&A pipeline", ["STAGE", "DEALS", "VALUE", "WEIGHTED"])
    for row in ma["by_stage"]:
        table.add_row(row["stage"], str(row["count"]), money(row["value"]), money(row["weighted"]))
    weighted = ma["weighted"]
    table.add_row(
        "open total", str(weighted["deals"]), money(weighted["value"]), money(weighted["weighted"])
    )
    console.print(table)
    days = {d["stage"]: d for d in ma["days_in_stage"]}
    conv = _table("\nConversion", ["FROM", "TO", "REACHED", "CONVERTED", "RATE", "AVG DAYS"])
    for c in ma["conversion"]:
        avg = days.get(c["from_stage"], {}).get("avg_days")
        conv.add_row(
            c["from_stage"],
            c["to_stage"],
            str(c["reached"]),
            str(c["converted"]),
            _num(c["rate_pct"], "%"),
            _num(avg),
        )
    console.print(conv)
    closing = ma["days_to_close"]
    console.print(f"average days to close: {_num(closing['average'])} ({closing['deals']} deals)")
    part = data["pipelines"]["partnerships"]
    regs = _table("\nPartnership pipeline", ["STATUS", "COUNT", "AMOUNT"])
    for row in part["by_status"]:
        regs.add_row(row["status"], str(row["count"]), money(row["amount"]))
    console.print(regs)
    for motion, row in part["by_motion"].items():
        console.print(
            f"{motion}: {row['open_count']} open ({money(row['open_pipeline'])}), "
            f"{row['won_count']} won in 12 months ({money(row['won_revenue'])})",
            markup=False,
        )


def _value(console: Console, data: dict[str, Any]) -> None:
    table = _table(
        "\nValue creation (synergies)",
        ["CURRENCY", "CATEGORY", "PLAN TO DATE", "ACTUAL", "REALISED"],
    )
    for cur, block in data["value_creation"]["by_currency"].items():
        for cat, r in [*block["by_category"].items(), ("overall", block["overall"])]:
            table.add_row(
                cur,
                cat,
                f"{float(r['planned_to_date']):,.0f}",
                f"{float(r['actual_to_date']):,.0f}",
                _num(r["realisation_pct"], "%"),
            )
    console.print(table)


def _kpis(console: Console, data: dict[str, Any]) -> None:
    table = _table("\nKPIs", ["KPI", "VALUE", "TARGET", "STATUS"])
    for k in data["kpis"]:
        unit = k["unit"]
        shown = _num(k["value"], unit)
        if k["value"] is not None and unit not in ("%",):
            shown = f"{shown} {unit[:-1] if k['value'] == 1 and unit.endswith('s') else unit}"
        style = STATUS_STYLE.get(k["status"], "")
        table.add_row(k["name"], shown, _num(k["target"], unit), f"[{style}]{k['status']}[/]")
    console.print(table)
    if data["alerts"]:
        console.print("\n[bold]Alerts[/]")
        for alert in data["alerts"]:
            console.print(f"  {alert['severity']}: {alert['message']}", markup=False)


def _recommendations(console: Console, data: dict[str, Any]) -> None:
    console.print("\n[bold]Recommendations[/]")
    if not data["recommendations"]:
        console.print("  none")
    for rec in data["recommendations"]:
        style = SEVERITY_STYLE.get(rec["severity"], "")
        console.print(f"  [{style}]{rec['severity']:<8}[/] ", end="")
        console.print(rec["message"], markup=False)


def register(corporate: typer.Typer) -> None:
    """Add ``dashboard`` and ``demo`` to ``novacron corporate``."""

    @corporate.command("dashboard")
    @handle_errors
    def dashboard(
        ctx: typer.Context,
        today: str | None = typer.Option(None, "--today", help="As of this date (YYYY-MM-DD)"),
        threshold: list[str] = typer.Option(
            [], "--threshold", help="Override a threshold: KPI.KEY=VALUE (repeatable)"
        ),
    ) -> None:
        """Pipelines, value creation, KPIs with status, alerts and recommendations."""
        cli = get_context(ctx)
        with cli.client() as api:
            data = api.get(f"{BASE}/dashboard", params={"today": today, "threshold": threshold})
        if cli.json:
            render(cli, data)
            return
        console = Console(highlight=False, soft_wrap=False, width=160)
        console.print(f"[bold]Executive dashboard[/] as of {data['as_of']}\n")
        _pipelines(console, data)
        _value(console, data)
        _kpis(console, data)
        _recommendations(console, data)

    @corporate.command("demo")
    @handle_errors
    def demo(ctx: typer.Context) -> None:
        """Load a sample portfolio (targets, programmes, partners, ecosystem). What exists
        by name is left as it is, so running it twice changes nothing."""
        cli = get_context(ctx)
        with cli.client() as api:
            data = api.post(f"{BASE}/demo")
        made = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in data["created"].items())
        message(cli, data["message"] + (f": {made}" if made else ""), data)
