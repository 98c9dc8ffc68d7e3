"""``novacron alerts list | ack | resolve`` and ``novacron threats rules | replay``: the
threat rules' detections, their catalogue, and the labelled replay that measures them."""

from __future__ import annotations

import typer

from novacron.core.cli_support import (
    Column,
    get_context,
    handle_errors,
    message,
    print_json,
    render,
)
from novacron.security.cli_common import fmt_when

alerts_app = typer.Typer(help="Security alerts raised by the threat rules (platform admins).")
threats_app = typer.Typer(help="The threat rules and their measured accuracy.")

ALERT_COLUMNS: list[Column] = [
    ("id", "id"),
    ("time", lambda a: fmt_when(a.get("ts"))),
    ("priority", "priority"),
    ("rule", "rule_id"),
    ("mitre", "mitre_technique"),
    ("status", "status"),
    ("summary", "summary"),
]
RULE_COLUMNS: list[Column] = [
    ("id", "id"),
    ("family", "family"),
    ("kind", "kind"),
    ("priority", "priority"),
    ("mitre", "mitre_technique"),
    ("title", "title"),
]


@alerts_app.command("list")
@handle_errors
def alerts_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="open, acknowledged, resolved"),
    priority: str | None = typer.Option(None, "--priority", help="critical, high, medium, low"),
    limit: int = typer.Option(100, "--limit", help="Alerts to show (1-1000)"),
) -> None:
    """Alerts, newest first."""
    cli = get_context(ctx)
    params = {"status": status, "priority": priority, "limit": limit}
    with cli.client() as api:
        page = api.get("/security/alerts", params={k: v for k, v in params.items() if v})
    if cli.json:
        print_json(page)
        return
    render(cli, page["items"], ALERT_COLUMNS, empty="no alerts")


def _set_status(ctx: typer.Context, alert_id: str, status: str, note: str) -> None:
    cli = get_context(ctx)
    with cli.client() as api:
        alert = api.request(
            "PATCH", f"/security/alerts/{alert_id}", json={"status": status, "note": note}
        )
    message(cli, f"alert {alert['id']} {status}", alert)


@alerts_app.command("ack")
@handle_errors
def alerts_ack(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="Alert id"),
    note: str = typer.Option("", "--note", help="Why (kept with the alert)"),
) -> None:
    """Acknowledge an alert: someone is on it."""
    _set_status(ctx, alert_id, "acknowledged", note)


@alerts_app.command("resolve")
@handle_errors
def alerts_resolve(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="Alert id"),
    note: str = typer.Option("", "--note", help="What was found or done"),
) -> None:
    """Resolve an alert."""
    _set_status(ctx, alert_id, "resolved", note)


@threats_app.command("rules")
@handle_errors
def threats_rules(ctx: typer.Context) -> None:
    """The rules the server runs."""
    cli = get_context(ctx)
    with cli.client() as api:
        rules = api.get("/security/threat-rules")
    if cli.json:
        print_json(rules)
        return
    render(cli, rules, RULE_COLUMNS, empty="no rules")


@threats_app.command("replay")
@handle_errors
def threats_replay(
    ctx: typer.Context,
    seed: int = typer.Option(7, "--seed", help="Corpus seed"),
    scenarios: int = typer.Option(180, "--scenarios", help="Scenarios (half attacks)"),
) -> None:
    """Measure the shipped rules on a generated, labelled corpus (runs locally)."""
    from novacron.security.threats.corpus import generate_corpus
    from novacron.security.threats.replay import replay

    cli = get_context(ctx)
    result = replay(generate_corpus(seed=seed, scenarios=scenarios))
    ttd = (
        f"median {result.ttd_median_s:.0f} s, p95 {result.ttd_p95_s:.0f} s"
        if result.ttd_median_s is not None and result.ttd_p95_s is not None
        else "n/a"
    )
    message(
        cli,
        f"detected {result.detected}/{result.attacks} attacks "
        f"({result.detection_rate:.1%}); false positives {result.false_positives}/"
        f"{result.benign} benign ({result.false_positive_rate:.1%}); time to detect {ttd}",
        result.as_dict(),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(threats_app, name="threats")
