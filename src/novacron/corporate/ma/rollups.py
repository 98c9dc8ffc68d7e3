"""Roll-ups computed from records, never typed in (pure: no database, no HTTP).

- diligence: per-workstream request counts, % complete, overdue, top risks; a heat map;
- synergy plan: run-rate totals by category and phased totals by year;
- valuation versions: which input keys changed between two versions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from novacron.core.errors import Invalid
from novacron.corporate.ma.scoring import RATINGS, heat_map, risk_rating
from novacron.corporate.ma.stages import DONE_REQUEST_STATUSES, WORKSTREAMS

REQUEST_STATUSES = ("open", "in_progress", "received", "closed", "waived")
FINDING_STATUSES = ("open", "mitigated", "accepted", "closed")
OVERDUE_STATUSES = frozenset({"open", "in_progress"})
"""A request is overdue when past due and nothing has come back yet."""
TOP_RISKS = 3


def is_overdue(status: str, due_on: date | None, today: date) -> bool:
    return due_on is not None and due_on < today and status in OVERDUE_STATUSES


@dataclass(frozen=True, slots=True)
class RequestFacts:
    workstream: str
    status: str
    due_on: date | None


@dataclass(frozen=True, slots=True)
class FindingFacts:
    id: str
    workstream: str
    title: str
    severity: int
    likelihood: int
    status: str
    deal_breaker: bool

    @property
    def score(self) -> int:
        return self.severity * self.likelihood

    def as_risk(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": self.score,
            "rating": risk_rating(self.score),
            "deal_breaker": self.deal_breaker,
            "status": self.status,
        }


@dataclass
class WorkstreamSummary:
    workstream: str
    lead: str | None = None
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    percent_complete: float = 0.0
    overdue: int = 0
    open_findings: int = 0
    top_risks: list[dict[str, Any]] = field(default_factory=list)


def _live(finding: FindingFacts) -> bool:
    """A finding still on the register (closed ones are history)."""
    return finding.status != "closed"


def _workstream(
    name: str,
    lead: str | None,
    requests: Sequence[RequestFacts],
    findings: Sequence[FindingFacts],
    today: date,
) -> WorkstreamSummary:
    counts = Counter(r.status for r in requests)
    done = sum(counts[s] for s in DONE_REQUEST_STATUSES)
    live = sorted(
        (f for f in findings if _live(f)), key=lambda f: (-f.score, not f.deal_breaker, f.title)
    )
    return WorkstreamSummary(
        workstream=name,
        lead=lead,
        total=len(requests),
        by_status={s: counts.get(s, 0) for s in REQUEST_STATUSES},
        percent_complete=round(100 * done / len(requests), 1) if requests else 0.0,
        overdue=sum(is_overdue(r.status, r.due_on, today) for r in requests),
        open_findings=sum(f.status == "open" for f in findings),
        top_risks=[f.as_risk() for f in live[:TOP_RISKS]],
    )


def diligence_summary(
    requests: Iterable[RequestFacts],
    findings: Iterable[FindingFacts],
    today: date,
    leads: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Per-workstream status and the target's 5×5 heat map of findings not yet closed."""
    reqs, finds = list(requests), list(findings)
    workstreams = [
        _workstream(
            name,
            (leads or {}).get(name),
            [r for r in reqs if r.workstream == name],
            [f for f in finds if f.workstream == name],
            today,
        )
        for name in WORKSTREAMS
    ]
    done = sum(1 for r in reqs if r.status in DONE_REQUEST_STATUSES)
    live = [f for f in finds if _live(f)]
    return {
        "as_of": today.isoformat(),
        "workstreams": [vars(w) for w in workstreams],
        "total_requests": len(reqs),
        "percent_complete": round(100 * done / len(reqs), 1) if reqs else 0.0,
        "overdue": sum(w.overdue for w in workstreams),
        "open_deal_breakers": sum(1 for f in finds if f.deal_breaker and f.status == "open"),
        "ratings": {r: sum(1 for f in live if risk_rating(f.score) == r) for r in RATINGS},
        "heat_map": {
            "rows": "severity 5..1",
            "columns": "likelihood 1..5",
            "counts": heat_map((f.severity, f.likelihood) for f in live),
        },
    }


# -- synergy plan ---------------------------------------------------------------------------

SYNERGY_CATEGORIES = ("revenue", "cost")
MAX_PHASE_YEARS = 10


def check_phase_in(phase_in: Sequence[float], loc: list[str | int]) -> None:
    """Fractions of run-rate reached each year: 0–1 and never going down."""
    if not phase_in:
        raise Invalid("phase_in needs at least one year", errors=[{"loc": loc, "msg": "empty"}])
    if len(phase_in) > MAX_PHASE_YEARS:
        raise Invalid(
            f"phase_in covers at most {MAX_PHASE_YEARS} years",
            errors=[{"loc": loc, "msg": f"more than {MAX_PHASE_YEARS} years"}],
        )
    errors = [
        {"loc": [*loc, i], "msg": "must be between 0 and 1"}
        for i, f in enumerate(phase_in)
        if not 0 <= f <= 1
    ]
    errors += [
        {"loc": [*loc, i], "msg": f"{phase_in[i]:g} is below the year before ({phase_in[i - 1]:g})"}
        for i in range(1, len(phase_in))
        if phase_in[i] < phase_in[i - 1]
    ]
    if errors:
        raise Invalid("phase_in must be fractions from 0 to 1, non-decreasing", errors=errors)


@dataclass(frozen=True, slots=True)
class SynergyFacts:
    category: str
    run_rate: Decimal
    phase_in: Sequence[float]
    one_off_cost: Decimal


def _fraction(phase_in: Sequence[float], year: int) -> Decimal:
    """The phase-in fraction of year ``year`` (0-based); holds at its last value after."""
    value = phase_in[min(year, len(phase_in) - 1)]
    return Decimal(repr(float(value)))


def synergy_totals(lines: Sequence[SynergyFacts]) -> dict[str, Any]:
    """Run-rate by category, phased amounts by year and the one-off cost, all in Decimal."""
    years = max((len(line.phase_in) for line in lines), default=0)
    by_category = {
        c: sum((x.run_rate for x in lines if x.category == c), Decimal(0))
        for c in SYNERGY_CATEGORIES
    }
    by_year: list[dict[str, Any]] = []
    for year in range(years):
        amounts = {
            c: sum(
                (x.run_rate * _fraction(x.phase_in, year) for x in lines if x.category == c),
                Decimal(0),
            )
            for c in SYNERGY_CATEGORIES
        }
        by_year.append({"year": year + 1, **amounts, "total": sum(amounts.values(), Decimal(0))})
    return {
        "run_rate": {**by_category, "total": sum(by_category.values(), Decimal(0))},
        "by_year": by_year,
        "one_off_cost": sum((x.one_off_cost for x in lines), Decimal(0)),
    }


# -- valuation input diffs -------------------------------------------------------------------

_MISSING = object()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys; lists stay whole (a changed list is one change)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in value:
            out.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff_inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every input key added, removed or changed from ``old`` to ``new``, sorted by key."""
    a, b = _flatten(dict(old)), _flatten(dict(new))
    changes: list[dict[str, Any]] = []
    for key in sorted(set(a) | set(b)):
        before, after = a.get(key, _MISSING), b.get(key, _MISSING)
        if before is _MISSING:
            changes.append({"key": key, "change": "added", "from": None, "to": after})
        elif after is _MISSING:
            changes.append({"key": key, "change": "removed", "from": before, "to": None})
        elif before != after:
            changes.append({"key": key, "change": "changed", "from": before, "to": after})
    return changes
