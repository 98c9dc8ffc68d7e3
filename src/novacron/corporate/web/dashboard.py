"""View model of the executive dashboard: ``strategy.service.dashboard`` (the numbers,
KPIs, alerts and recommendations, computed once for the API, the CLI and this page) plus
the figures the page draws and the links its recommendations point to."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from novacron.corporate.strategy.service import dashboard
from novacron.corporate.web import charts
from novacron.corporate.web.format import compact, money, num, pct

FUNNEL_STAGES = (
    "screening",
    "preliminary",
    "due_diligence",
    "negotiation",
    "closed",
    "integration",
)
SUBJECT_HREFS = {
    "target": "/corporate/targets/{id}",
    "programme": "/corporate/programmes/{id}",
    "partner": "/corporate/partners/{id}",
    "registration": "/corporate/partners",
    "registrations": "/corporate/partners",
    "government": "/corporate/ecosystem",
    "certification": "/corporate/ecosystem",
}
KPI_TONES = {"ok": "ok", "warning": "warn", "alert": "bad", "no_data": "idle"}


def amounts_text(amounts: dict[str, str]) -> str:
    """``{"EUR": "1200000", "USD": "5"}`` → ``EUR 1.2M + USD 5``: never summed."""
    return " + ".join(f"{cur} {compact(amounts[cur])}" for cur in sorted(amounts)) or ""


def funnel_figure(by_stage: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in by_stage if r["stage"] in FUNNEL_STAGES]
    stages = [
        {"stage": r["stage"], "count": r["count"], "value": amounts_text(r["value"])} for r in rows
    ]
    fig = charts.funnel([{**s, "value": 0} for s in stages], None)
    fig["data"][0]["text"] = [
        f"{s['count']}" + (f" · {s['value']}" if s["value"] else "") for s in stages
    ]
    return fig


def kpi_value(kpi: dict[str, Any], key: str = "value") -> str:
    value, unit = kpi.get(key), str(kpi.get("unit") or "")
    if value is None:
        return "—"
    if unit == "%":
        return pct(value, 0)
    if len(unit) == 3 and unit.isupper():
        return money(value, unit, short=True)
    if value == 1 and unit.endswith("s"):  # "1 deal", not "1 deals"
        unit = unit[:-1]
    return f"{num(value, 1)} {unit}".strip()


def synergy_figures(value_creation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Planned to date against realised, by category, one chart per currency."""
    out = {}
    for cur, block in sorted(value_creation.get("by_currency", {}).items()):
        by_cat = block["by_category"]
        cats = sorted(by_cat)
        planned = [float(by_cat[c]["planned_to_date"]) for c in cats]
        realised = [float(by_cat[c]["actual_to_date"]) for c in cats]
        out[cur] = charts.grouped_bars(
            cats,
            [("Planned to date", planned, charts.MUTED), ("Realised", realised, charts.ACCENT)],
            yaxis_title=cur,
            height=280,
        )
    return out


def partnership_figure(by_status: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [r["status"] for r in by_status]
    fig = charts.grouped_bars(
        statuses, [("Registrations", [r["count"] for r in by_status], charts.ACCENT)], height=240
    )
    fig["layout"]["showlegend"] = False
    return fig


def _href(subject: dict[str, Any] | None) -> str | None:
    if not subject:
        return None
    pattern = SUBJECT_HREFS.get(str(subject.get("kind")))
    return pattern.format(id=subject.get("id", "")) if pattern else None


def dashboard_context(session: Session, today: date, *, project_id: str) -> dict[str, Any]:
    data = dashboard(session, today, project_id=project_id)
    ma = data["pipelines"]["ma"]
    partnerships = data["pipelines"]["partnerships"]
    kpis = [
        {
            **k,
            "shown": kpi_value(k),
            "target_shown": kpi_value(k, "target"),
            "tone": KPI_TONES.get(str(k["status"]), "idle"),
            "fired": [r for r in k.get("rules", []) if r.get("fired")],
        }
        for k in data["kpis"]
    ]
    recs = [{**r, "href": _href(r.get("subject"))} for r in data["recommendations"]]
    targets = sum(r["count"] for r in ma["by_stage"])
    return {
        "d": data,
        "kpis": kpis,
        "recommendations": recs,
        "funnel_fig": funnel_figure(ma["by_stage"]) if targets else None,
        "funnel_stages": [r for r in ma["by_stage"] if r["stage"] in FUNNEL_STAGES],
        "conversion": {c["from_stage"]: c["rate_pct"] for c in ma["conversion"]},
        "targets_total": targets,
        "registrations_total": sum(r["count"] for r in partnerships["by_status"]),
        "partnership_fig": partnership_figure(partnerships["by_status"]),
        "synergy_figs": synergy_figures(data["value_creation"]),
        "empty": not targets and not partnerships["partners"]["total"],
    }
