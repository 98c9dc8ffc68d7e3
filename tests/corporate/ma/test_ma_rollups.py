"""Diligence summaries, synergy totals and valuation diffs (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.ma.rollups import (
    FindingFacts,
    RequestFacts,
    SynergyFacts,
    check_phase_in,
    diff_inputs,
    diligence_summary,
    is_overdue,
    synergy_totals,
)

TODAY = date(2026, 6, 15)


def test_overdue_only_while_nothing_came_back() -> None:
    past = date(2026, 6, 14)
    assert is_overdue("open", past, TODAY)
    assert is_overdue("in_progress", past, TODAY)
    assert not is_overdue("received", past, TODAY)
    assert not is_overdue("waived", past, TODAY)
    assert not is_overdue("open", TODAY, TODAY)
    assert not is_overdue("open", None, TODAY)


def test_diligence_summary_per_workstream_and_heat_map() -> None:
    requests = [
        RequestFacts("financial", "closed", None),
        RequestFacts("financial", "waived", None),
        RequestFacts("financial", "open", date(2026, 6, 1)),
        RequestFacts("financial", "received", date(2026, 6, 1)),
        RequestFacts("legal", "in_progress", date(2026, 7, 1)),
    ]
    findings = [
        FindingFacts("f1", "financial", "Revenue recognition", 4, 3, "open", False),
        FindingFacts("f2", "financial", "Customer concentration", 5, 4, "mitigated", True),
        FindingFacts("f3", "financial", "Old audit issue", 5, 5, "closed", False),
        FindingFacts("f4", "legal", "Open litigation", 3, 2, "open", True),
        FindingFacts("f5", "financial", "Minor", 1, 1, "accepted", False),
        FindingFacts("f6", "financial", "Smaller", 2, 1, "open", False),
    ]
    out = diligence_summary(requests, findings, TODAY, {"financial": "cfo"})
    fin = out["workstreams"][0]
    assert fin["workstream"] == "financial" and fin["lead"] == "cfo"
    assert fin["total"] == 4
    assert fin["by_status"] == {
        "open": 1,
        "in_progress": 0,
        "received": 1,
        "closed": 1,
        "waived": 1,
    }
    assert fin["percent_complete"] == 50.0
    assert fin["overdue"] == 1
    assert fin["open_findings"] == 2
    # Closed findings are off the register; the top three by score.
    assert [r["id"] for r in fin["top_risks"]] == ["f2", "f1", "f6"]
    assert fin["top_risks"][0] == {
        "id": "f2",
        "title": "Customer concentration",
        "score": 20,
        "rating": "critical",
        "deal_breaker": True,
        "status": "mitigated",
    }
    assert [w["workstream"] for w in out["workstreams"]][-1] == "environmental"
    assert out["workstreams"][5]["total"] == 0 and out["workstreams"][5]["percent_complete"] == 0
    assert out["total_requests"] == 5 and out["percent_complete"] == 40.0
    assert out["open_deal_breakers"] == 1  # f4 (f2 is mitigated)
    assert out["ratings"] == {"low": 2, "medium": 1, "high": 1, "critical": 1}
    grid = out["heat_map"]["counts"]
    assert grid[0][3] == 1  # f2: severity 5, likelihood 4
    assert grid[0][4] == 0  # f3 is closed
    assert sum(map(sum, grid)) == 5


def test_synergy_totals_by_category_and_year_in_decimal() -> None:
    lines = [
        SynergyFacts("cost", Decimal("1000000.10"), [0.5, 1.0], Decimal("250000")),
        SynergyFacts("cost", Decimal("200000"), [1.0], Decimal("0")),
        SynergyFacts("revenue", Decimal("3000000"), [0.1, 0.3, 0.7], Decimal("100000.5")),
    ]
    totals = synergy_totals(lines)
    assert totals["run_rate"] == {
        "revenue": Decimal("3000000"),
        "cost": Decimal("1200000.10"),
        "total": Decimal("4200000.10"),
    }
    years = totals["by_year"]
    assert [y["year"] for y in years] == [1, 2, 3]
    assert years[0]["cost"] == Decimal("700000.050")  # 500000.05 + 200000
    assert years[0]["revenue"] == Decimal("300000.0")
    # Shorter lines hold their last fraction: the cost lines are at full run-rate in year 3.
    assert years[2]["cost"] == Decimal("1200000.10")
    assert years[2]["total"] == Decimal("3300000.10")
    assert totals["one_off_cost"] == Decimal("350000.5")
    assert synergy_totals([]) == {
        "run_rate": {"revenue": 0, "cost": 0, "total": 0},
        "by_year": [],
        "one_off_cost": 0,
    }


def test_phase_in_must_be_fractions_that_never_go_down() -> None:
    check_phase_in([0, 0.5, 0.5, 1], ["phase_in"])
    with pytest.raises(Invalid) as err:
        check_phase_in([0.5, 0.3, 1.2], ["lines", 2, "phase_in"])
    assert [e["loc"] for e in err.value.errors] == [
        ["lines", 2, "phase_in", 2],
        ["lines", 2, "phase_in", 1],
    ]
    assert "0.3 is below the year before (0.5)" in err.value.errors[1]["msg"]
    with pytest.raises(Invalid, match="at least one year"):
        check_phase_in([], ["phase_in"])
    with pytest.raises(Invalid, match="at most 10 years"):
        check_phase_in([1.0] * 11, ["phase_in"])


def test_diff_of_valuation_inputs_names_changed_keys() -> None:
    old = {"rate": 0.1, "cashflows": [-100, 60], "terminal": {"growth": 0.02, "method": "gordon"}}
    new = {
        "rate": 0.1,
        "cashflows": [-100, 70],
        "terminal": {"growth": 0.03, "method": "gordon"},
        "mid_year": True,
    }
    assert diff_inputs(old, new) == [
        {"key": "cashflows", "change": "changed", "from": [-100, 60], "to": [-100, 70]},
        {"key": "mid_year", "change": "added", "from": None, "to": True},
        {"key": "terminal.growth", "change": "changed", "from": 0.02, "to": 0.03},
    ]
    assert diff_inputs(new, old)[1] == {
        "key": "mid_year",
        "change": "removed",
        "from": True,
        "to": None,
    }
    assert diff_inputs(old, old) == []
