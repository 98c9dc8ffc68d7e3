"""View models of the M&A pages: the target list and one target's page.

They read through the M&A services (never its tables directly, apart from the latest
scorecard total per listed target, one query) and shape what the templates show: the
stage bar, the gate, the scorecard explanation, diligence progress and heat map, valuation
versions with the football field and sensitivity grid, the synergy plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from novacron.core.errors import Invalid
from novacron.core.pagination import PageParams
from novacron.corporate.export.service import DCF_KINDS
from novacron.corporate.ma.models import Scorecard
from novacron.corporate.ma.schemas import ScorecardOut, TargetOut, ValuationOut
from novacron.corporate.ma.service import diligence, scorecards, synergies, valuations, workflow
from novacron.corporate.ma.service.targets import find_target, list_targets, to_out
from novacron.corporate.ma.stages import PIPELINE, Stage
from novacron.corporate.web import charts
from novacron.corporate.web.format import label
from novacron.corporate.web.valuation import Versions, axis_labels, football, sensitivity

PAGE_SIZE = 50
CATEGORIES = ("storage", "networking", "security", "ai_ml", "quantum", "custom")
STAGES = tuple(s.value for s in Stage)
EXPORT_URL = "/api/v1/corporate/targets/{id}/valuations/{version}/export.xlsx"


def _choice(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise Invalid(
            f"{field} must be one of {', '.join(allowed)}",
            errors=[{"loc": ["query", field], "msg": "unknown value"}],
        )
    return value


def latest_scores(session: Session, target_ids: list[str]) -> dict[str, float]:
    """Each target's latest scorecard total (one query for the whole page)."""
    if not target_ids:
        return {}
    latest = (
        select(Scorecard.target_id, func.max(Scorecard.version).label("v"))
        .where(Scorecard.target_id.in_(target_ids))
        .group_by(Scorecard.target_id)
        .subquery()
    )
    rows = session.execute(
        select(Scorecard.target_id, Scorecard.total).join(
            latest, (Scorecard.target_id == latest.c.target_id) & (Scorecard.version == latest.c.v)
        )
    )
    return {target_id: float(total) for target_id, total in rows}


def targets_context(
    session: Session,
    *,
    project_id: str,
    stage: str | None,
    category: str | None,
    name: str | None,
    offset: int,
) -> dict[str, Any]:
    filters = {
        "stage": _choice(stage, STAGES, "stage"),
        "category": _choice(category, CATEGORIES, "category"),
        "name": (name or "").strip() or None,
    }
    page = PageParams(limit=PAGE_SIZE, offset=offset)
    items, total = list_targets(session, page, project_id=project_id, **filters)
    return {
        "targets": items,
        "scores": latest_scores(session, [t.id for t in items]),
        "total": total,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "filters": {k: v or "" for k, v in filters.items()},
        "stages": STAGES,
        "categories": CATEGORIES,
    }


@dataclass(frozen=True)
class StageStep:
    stage: str
    name: str
    state: str
    """done, current, todo, or dropped (the stage the deal was dropped from)."""


def stage_steps(target: TargetOut) -> list[StageStep]:
    """The pipeline as a bar: stages passed, the current one, those ahead."""
    current = target.dropped_from if target.stage == Stage.dropped else target.stage
    order = [s.value for s in PIPELINE]
    at = order.index(current) if current in order else -1
    steps = []
    for i, stage in enumerate(order):
        if i < at:
            state = "done"
        elif i == at:
            state = "dropped" if target.stage == Stage.dropped else "current"
        else:
            state = "todo"
        steps.append(StageStep(stage, label(stage), state))
    return steps


def _versions(session: Session, target_id: str) -> list[ValuationOut]:
    return [
        ValuationOut.model_validate(v)
        for v in session.scalars(valuations.valuations_query(target_id))
    ]


def valuation_context(target: TargetOut, versions: list[ValuationOut]) -> dict[str, Any]:
    """The football field and sensitivity grid of the latest DCF, and the export links."""
    latest = Versions.of([v.model_dump() for v in versions])
    dcf = latest.get("dcf")
    ctx: dict[str, Any] = {
        "valuations": versions,
        "dcf": dcf,
        "football": None,
        "football_fig": None,
        "sensitivity": None,
        "sensitivity_fig": None,
        "export_urls": {  # the kinds whose inputs hold a whole DCF export to .xlsx
            v.version: EXPORT_URL.format(id=target.id, version=v.version)
            for v in versions
            if v.kind in DCF_KINDS
        },
    }
    ff = football(latest)
    ctx["football"] = ff
    if ff.field is not None:
        ctx["football_fig"] = charts.football_field(ff.field)
    if dcf is not None:
        grid = sensitivity(dcf["inputs"])
        cols = axis_labels(grid["col_driver"], grid["col_values"])
        rows = axis_labels(grid["row_driver"], grid["row_values"])
        ctx["sensitivity"] = {**grid, "col_labels": cols, "row_labels": rows}
        ctx["sensitivity_fig"] = charts.heat_map(
            grid["cells"],
            cols,
            rows,
            x_title=label(grid["col_driver"]),
            y_title="WACC",
        )
    return ctx


def target_context(session: Session, ref: str, *, project_id: str) -> dict[str, Any]:
    target = to_out(find_target(session, ref, project_id=project_id))
    card_row = session.scalars(scorecards.scorecards_query(target.id).limit(1)).first()
    summary = diligence.summary(session, target.id, project_id=project_id)
    versions = _versions(session, target.id)
    history = [
        {"from": c.from_stage, "to": c.to_stage, "by": c.by, "at": c.at, "reason": c.reason}
        for c in session.scalars(workflow.history_query(target.id))
    ]
    return {
        "target": target,
        "steps": stage_steps(target),
        "gate": workflow.gate(session, target.id, project_id=project_id),
        "scorecard": ScorecardOut.model_validate(card_row) if card_row else None,
        "diligence": summary,
        "findings_count": sum(summary["ratings"].values()),
        "risk_fig": charts.risk_heat_map(summary["heat_map"]["counts"]),
        "plan": synergies.plan_out(session, target.id, project_id=project_id),
        "history": history,
        **valuation_context(target, versions),
    }
