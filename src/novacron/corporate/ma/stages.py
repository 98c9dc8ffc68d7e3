"""The deal stage workflow and its gates (pure: no database, no HTTP).

    screening → preliminary → due_diligence → negotiation → closed → integration
         └────────────┴──────────────┴──────────────┴──→ dropped ──(reopen)──┐
                                                                             │
                        back to the stage it was dropped from  ◀─────────────┘

Each forward step has a gate: criteria evaluated from facts about the target that the
service gathers (``GateFacts``). A gate passes when every criterion is met; otherwise the
unmet ones say what is missing. A deal can be dropped from any *open* stage (before
``closed``: a signed deal is integrated, not dropped) and reopened to the stage it left,
whose gate it had already passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from novacron.core.errors import InvalidState


class Stage(StrEnum):
    screening = "screening"
    preliminary = "preliminary"
    due_diligence = "due_diligence"
    negotiation = "negotiation"
    closed = "closed"
    integration = "integration"
    dropped = "dropped"


PIPELINE: tuple[Stage, ...] = (
    Stage.screening,
    Stage.preliminary,
    Stage.due_diligence,
    Stage.negotiation,
    Stage.closed,
    Stage.integration,
)
OPEN_STAGES = frozenset(PIPELINE[:4])
"""Stages a deal can be dropped from."""
DELETABLE_STAGES = frozenset({Stage.screening, Stage.dropped})
"""Stages in which a target may be deleted: before any diligence or valuation work, or
after it was abandoned. Later targets carry a record worth keeping (drop them instead)."""

DEFAULT_PROBABILITY: Mapping[Stage, int] = {
    Stage.screening: 10,
    Stage.preliminary: 20,
    Stage.due_diligence: 40,
    Stage.negotiation: 70,
    Stage.closed: 100,
    Stage.integration: 100,
    Stage.dropped: 0,
}
"""Percent chance of closing used by the weighted pipeline unless set on the target."""

DEFAULT_MIN_SCORE = 60.0
"""Screening score (0–100) needed to move to preliminary, unless a request says otherwise."""

WORKSTREAMS: tuple[str, ...] = (
    "financial",
    "legal",
    "technology",
    "commercial",
    "operational",
    "environmental",
)
DONE_REQUEST_STATUSES = frozenset({"closed", "waived"})


def next_stage(stage: Stage) -> Stage | None:
    """The stage after ``stage`` in the pipeline; None at the end or when dropped."""
    if stage is Stage.dropped or stage is Stage.integration:
        return None
    return PIPELINE[PIPELINE.index(stage) + 1]


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    description: str
    met: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "met": self.met,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class GateFacts:
    """What the gates look at, gathered from the database by the service."""

    latest_score: float | None = None
    latest_scorecard_version: int | None = None
    min_score: float = DEFAULT_MIN_SCORE
    valuation_versions: int = 0
    latest_valuation_version: int | None = None
    latest_valuation_approved: bool = False
    nda_signed: bool = False
    nda_owner: str | None = None
    requests: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Diligence request counts: workstream → status → count."""
    open_deal_breakers: Sequence[str] = ()
    """Titles of open findings flagged as deal-breakers."""
    signed_on: date | None = None
    closed_on: date | None = None
    integration_programme_id: str | None = None


@dataclass(frozen=True, slots=True)
class Gate:
    from_stage: Stage
    to_stage: Stage | None
    criteria: tuple[Criterion, ...]

    @property
    def ready(self) -> bool:
        return self.to_stage is not None and all(c.met for c in self.criteria)

    @property
    def unmet(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if not c.met)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.from_stage.value,
            "next_stage": self.to_stage.value if self.to_stage else None,
            "ready": self.ready,
            "criteria": [c.as_dict() for c in self.criteria],
        }


# -- the gates ----------------------------------------------------------------------------


def _screening_gate(f: GateFacts) -> list[Criterion]:
    if f.latest_score is None:
        score = Criterion("scorecard", "a screening scorecard exists", False, "no scorecard yet")
        threshold = Criterion(
            "score",
            f"the latest scorecard scores at least {f.min_score:g}/100",
            False,
            "no score",
        )
        return [score, threshold]
    have = Criterion(
        "scorecard",
        "a screening scorecard exists",
        True,
        f"scorecard v{f.latest_scorecard_version}",
    )
    ok = f.latest_score >= f.min_score
    return [
        have,
        Criterion(
            "score",
            f"the latest scorecard scores at least {f.min_score:g}/100",
            ok,
            f"v{f.latest_scorecard_version} scores {f.latest_score:.1f}"
            + ("" if ok else f", {f.min_score - f.latest_score:.1f} short"),
        ),
    ]


def _preliminary_gate(f: GateFacts) -> list[Criterion]:
    valued = f.valuation_versions > 0
    return [
        Criterion(
            "valuation",
            "a valuation model version exists",
            valued,
            f"{f.valuation_versions} version(s), latest v{f.latest_valuation_version}"
            if valued
            else "no valuation yet",
        ),
        Criterion(
            "nda_signed",
            "the NDA is signed",
            f.nda_signed,
            "signed" if f.nda_signed else "nda_signed is false",
        ),
        Criterion(
            "nda_owner",
            "the NDA has an owner",
            bool(f.nda_owner),
            f"owner {f.nda_owner}" if f.nda_owner else "no nda_owner",
        ),
    ]


def _diligence_gate(f: GateFacts) -> list[Criterion]:
    empty = [w for w in WORKSTREAMS if not sum(f.requests.get(w, {}).values())]
    pending: list[str] = []
    for workstream in WORKSTREAMS:
        counts = f.requests.get(workstream, {})
        left = sum(n for status, n in counts.items() if status not in DONE_REQUEST_STATUSES)
        if left:
            pending.append(f"{workstream} {left}")
    return [
        Criterion(
            "workstreams_covered",
            "every diligence workstream has at least one request",
            not empty,
            f"no requests in {', '.join(empty)}" if empty else "all six workstreams covered",
        ),
        Criterion(
            "requests_done",
            "every diligence request is closed or waived",
            not pending,
            f"still open: {', '.join(pending)}" if pending else "all closed or waived",
        ),
        Criterion(
            "no_deal_breakers",
            "no open deal-breaker finding",
            not f.open_deal_breakers,
            f"open deal-breakers: {', '.join(f.open_deal_breakers)}"
            if f.open_deal_breakers
            else "none open",
        ),
    ]


def _negotiation_gate(f: GateFacts) -> list[Criterion]:
    latest = f.latest_valuation_version
    approved = Criterion(
        "valuation_approved",
        "the latest valuation version is approved",
        f.latest_valuation_approved,
        "no valuation yet"
        if latest is None
        else f"v{latest} is {'approved' if f.latest_valuation_approved else 'not approved'}",
    )
    signed = Criterion(
        "signed_on",
        "the signing date is recorded",
        f.signed_on is not None,
        f"signed {f.signed_on.isoformat()}" if f.signed_on else "no signed_on date",
    )
    in_order = f.closed_on is not None and (f.signed_on is None or f.closed_on >= f.signed_on)
    if f.closed_on is None:
        detail = "no closed_on date"
    elif not in_order:
        detail = f"closed_on {f.closed_on.isoformat()} is before signed_on"
    else:
        detail = f"closes {f.closed_on.isoformat()}"
    closing = Criterion(
        "closed_on", "the close date is recorded (not before signing)", in_order, detail
    )
    return [approved, signed, closing]


def _closed_gate(f: GateFacts) -> list[Criterion]:
    exists = f.integration_programme_id is not None
    return [
        Criterion(
            "integration_programme",
            "the integration programme exists",
            exists,
            f"programme {f.integration_programme_id}" if exists else "no integration programme",
        )
    ]


_GATES: Mapping[Stage, Callable[[GateFacts], list[Criterion]]] = {
    Stage.screening: _screening_gate,
    Stage.preliminary: _preliminary_gate,
    Stage.due_diligence: _diligence_gate,
    Stage.negotiation: _negotiation_gate,
    Stage.closed: _closed_gate,
}


def evaluate_gate(stage: Stage, facts: GateFacts) -> Gate:
    """The gate out of ``stage``: every criterion with whether it is met and why."""
    check = _GATES.get(stage)
    return Gate(stage, next_stage(stage), tuple(check(facts)) if check else ())


def require_advance(name: str, gate: Gate) -> Stage:
    """The stage to move to, or ``InvalidState`` listing the unmet criteria."""
    if gate.to_stage is None:
        raise InvalidState(
            f"{name} is in {gate.from_stage.value}: there is no next stage"
            + (" (reopen it first)" if gate.from_stage is Stage.dropped else "")
        )
    if not gate.ready:
        unmet = gate.unmet
        raise InvalidState(
            f"cannot advance {name} from {gate.from_stage.value} to {gate.to_stage.value}: "
            f"{len(unmet)} gate criterion(s) unmet",
            errors=[{"loc": ["gate", c.id], "msg": c.detail, **c.as_dict()} for c in unmet],
        )
    return gate.to_stage


def require_droppable(name: str, stage: Stage) -> None:
    if stage not in OPEN_STAGES:
        raise InvalidState(
            f"cannot drop {name}: it is {stage.value} (only screening, preliminary, "
            "due_diligence or negotiation deals can be dropped)"
        )


def require_reopenable(name: str, stage: Stage, dropped_from: str | None) -> Stage:
    """The stage a dropped deal goes back to: the one it was dropped from."""
    if stage is not Stage.dropped:
        raise InvalidState(f"cannot reopen {name}: it is {stage.value}, not dropped")
    return Stage(dropped_from) if dropped_from else Stage.screening


def require_deletable(name: str, stage: Stage) -> None:
    if stage not in DELETABLE_STAGES:
        raise InvalidState(
            f"cannot delete {name}: it is {stage.value}; only screening or dropped targets "
            "can be deleted (drop it instead to keep its record)"
        )


def default_probability(stage: Stage) -> int:
    return DEFAULT_PROBABILITY[stage]
