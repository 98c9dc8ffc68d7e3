"""The stage workflow's gates, evaluated from facts alone (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from novacron.core.errors import InvalidState
from novacron.corporate.ma.stages import (
    DEFAULT_PROBABILITY,
    PIPELINE,
    WORKSTREAMS,
    GateFacts,
    Stage,
    evaluate_gate,
    next_stage,
    require_advance,
    require_deletable,
    require_droppable,
    require_reopenable,
)


def unmet(stage: Stage, facts: GateFacts) -> list[str]:
    return [c.id for c in evaluate_gate(stage, facts).unmet]


def all_done(status: str = "closed") -> dict[str, dict[str, int]]:
    return {w: {status: 1} for w in WORKSTREAMS}


def test_the_pipeline_order_and_its_ends() -> None:
    assert [next_stage(s) for s in PIPELINE] == [*PIPELINE[1:], None]
    assert next_stage(Stage.dropped) is None
    assert DEFAULT_PROBABILITY[Stage.screening] < DEFAULT_PROBABILITY[Stage.negotiation] < 100
    assert DEFAULT_PROBABILITY[Stage.dropped] == 0


def test_screening_needs_a_scorecard_at_the_threshold() -> None:
    assert unmet(Stage.screening, GateFacts()) == ["scorecard", "score"]
    low = GateFacts(latest_score=59.9, latest_scorecard_version=2)
    gate = evaluate_gate(Stage.screening, low)
    assert [c.id for c in gate.unmet] == ["score"]
    assert gate.unmet[0].detail == "v2 scores 59.9, 0.1 short"
    assert evaluate_gate(Stage.screening, replace(low, latest_score=60.0)).ready
    # The threshold is per request.
    assert unmet(Stage.screening, replace(low, latest_score=70, min_score=75)) == ["score"]
    assert evaluate_gate(Stage.screening, replace(low, min_score=50)).ready


def test_preliminary_needs_a_valuation_and_a_signed_nda_with_an_owner() -> None:
    assert unmet(Stage.preliminary, GateFacts()) == ["valuation", "nda_signed", "nda_owner"]
    facts = GateFacts(valuation_versions=1, latest_valuation_version=1, nda_signed=True)
    assert unmet(Stage.preliminary, facts) == ["nda_owner"]
    gate = evaluate_gate(Stage.preliminary, replace(facts, nda_owner="legal"))
    assert gate.ready and gate.to_stage is Stage.due_diligence


def test_diligence_needs_every_workstream_covered_done_and_no_open_deal_breaker() -> None:
    assert unmet(Stage.due_diligence, GateFacts()) == ["workstreams_covered"]
    partial = all_done()
    partial["legal"] = {"closed": 2, "open": 1, "in_progress": 1}
    partial["environmental"] = {"received": 1}
    gate = evaluate_gate(Stage.due_diligence, GateFacts(requests=partial))
    (pending,) = gate.unmet
    assert pending.id == "requests_done"
    assert pending.detail == "still open: legal 2, environmental 1"
    assert evaluate_gate(Stage.due_diligence, GateFacts(requests=all_done("waived"))).ready
    breaker = GateFacts(requests=all_done(), open_deal_breakers=("IP not owned",))
    gate = evaluate_gate(Stage.due_diligence, breaker)
    assert [c.id for c in gate.unmet] == ["no_deal_breakers"]
    assert "IP not owned" in gate.unmet[0].detail


def test_negotiation_needs_the_latest_valuation_approved_and_dates_in_order() -> None:
    assert unmet(Stage.negotiation, GateFacts()) == ["valuation_approved", "signed_on", "closed_on"]
    facts = GateFacts(
        latest_valuation_version=3,
        latest_valuation_approved=True,
        signed_on=date(2026, 3, 1),
        closed_on=date(2026, 2, 1),
    )
    gate = evaluate_gate(Stage.negotiation, facts)
    assert [c.id for c in gate.unmet] == ["closed_on"]
    assert gate.unmet[0].detail == "closed_on 2026-02-01 is before signed_on"
    assert evaluate_gate(Stage.negotiation, replace(facts, closed_on=date(2026, 3, 1))).ready
    not_approved = replace(facts, latest_valuation_approved=False, closed_on=date(2026, 4, 1))
    assert evaluate_gate(Stage.negotiation, not_approved).unmet[0].detail == "v3 is not approved"


def test_closed_needs_the_integration_programme() -> None:
    assert unmet(Stage.closed, GateFacts()) == ["integration_programme"]
    gate = evaluate_gate(Stage.closed, GateFacts(integration_programme_id="prog-1"))
    assert gate.ready and gate.to_stage is Stage.integration


def test_require_advance_lists_the_unmet_criteria() -> None:
    gate = evaluate_gate(Stage.preliminary, GateFacts(nda_signed=True))
    with pytest.raises(InvalidState) as err:
        require_advance("Acme", gate)
    assert "preliminary to due_diligence: 2 gate criterion(s) unmet" in err.value.detail
    assert [e["id"] for e in err.value.errors] == ["valuation", "nda_owner"]
    assert err.value.errors[0]["loc"] == ["gate", "valuation"]
    assert err.value.errors[0]["met"] is False and err.value.errors[0]["description"]
    end = evaluate_gate(Stage.integration, GateFacts())
    assert end.criteria == () and not end.ready
    with pytest.raises(InvalidState, match="no next stage"):
        require_advance("Acme", end)
    with pytest.raises(InvalidState, match="reopen it first"):
        require_advance("Acme", evaluate_gate(Stage.dropped, GateFacts()))


@pytest.mark.parametrize("stage", list(Stage))
def test_drop_reopen_and_delete_rules(stage: Stage) -> None:
    open_stage = stage in PIPELINE[:4]
    if open_stage:
        require_droppable("Acme", stage)
    else:
        with pytest.raises(InvalidState, match="cannot drop"):
            require_droppable("Acme", stage)
    if stage in (Stage.screening, Stage.dropped):
        require_deletable("Acme", stage)
    else:
        with pytest.raises(InvalidState, match="drop it instead"):
            require_deletable("Acme", stage)
    if stage is Stage.dropped:
        assert require_reopenable("Acme", stage, "negotiation") is Stage.negotiation
    else:
        with pytest.raises(InvalidState, match="not dropped"):
            require_reopenable("Acme", stage, None)
