"""KPI definitions, thresholds and alert rules (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.strategy import kpis
from novacron.corporate.strategy.kpis import KpiInputs


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows}


def rule(kpi: dict[str, Any], severity: str) -> dict[str, Any]:
    return next(r for r in kpi["rules"] if r["severity"] == severity)


def test_every_kpi_is_listed_with_id_unit_target_and_two_rules() -> None:
    rows = kpis.evaluate_all(KpiInputs())
    assert [r["id"] for r in rows] == [d.id for d in kpis.DEFINITIONS]
    assert len(rows) == 8
    for row in rows:
        assert {"id", "name", "value", "unit", "target", "status", "rules"} <= row.keys()
        assert [r["severity"] for r in row["rules"]] == ["warning", "alert"]
    by = by_id(rows)
    assert by["synergy_realisation"]["status"] == "no_data"
    assert by["synergy_realisation"]["target"] == 100
    assert by["partner_sourced_revenue"]["unit"] == "USD"
    assert by["deals_in_diligence"]["value"] == 0.0
    assert by["deals_in_diligence"]["status"] == "alert"  # none in diligence: < 1


@pytest.mark.parametrize(
    ("pct", "status", "warning", "alert"),
    [
        (100.0, "ok", False, False),
        (95.0, "ok", False, False),
        (90.0, "warning", True, False),
        (80.0, "warning", True, False),  # "below 80 % of plan": 80 itself is not below
        (79.9, "alert", True, True),
    ],
)
def test_synergy_realisation_alerts_below_80_percent_of_plan(
    pct: float, status: str, warning: bool, alert: bool
) -> None:
    row = by_id(kpis.evaluate_all(KpiInputs(realisation_pct={"USD": pct})))["synergy_realisation"]
    assert row["value"] == pct
    assert row["status"] == status
    assert rule(row, "warning")["fired"] is warning
    assert rule(row, "alert")["fired"] is alert
    assert rule(row, "alert")["condition"] == "synergy_realisation < 80%"
    if alert:
        assert rule(row, "alert")["message"] == (
            f"Synergy realisation is {pct:g}%, below the alert threshold of 80%"
        )


def test_ratio_kpis_show_the_worst_currency_and_never_add_money() -> None:
    x = KpiInputs(
        realisation_pct={"USD": 104.0, "EUR": 62.0, "GBP": None},
        mdf={"USD": (Decimal(100), Decimal(90)), "EUR": (Decimal(200), Decimal(50))},
        sourced_revenue={"USD": Decimal(3_000_000), "EUR": Decimal(9_000_000)},
    )
    by = by_id(kpis.evaluate_all(x))
    assert by["synergy_realisation"]["value"] == 62.0
    assert by["synergy_realisation"]["status"] == "alert"
    assert by["mdf_utilisation"]["value"] == 25.0
    assert by["mdf_utilisation"]["breakdown"]["by_currency"] == {"EUR": 25.0, "USD": 90.0}
    revenue = by["partner_sourced_revenue"]
    assert revenue["value"] == 3_000_000.0  # USD only: the EUR 9M is not added
    assert revenue["breakdown"]["other_currencies"] == {"EUR": Decimal(9_000_000)}
    assert revenue["status"] == "warning"  # below 4M, above 2.5M
    assert rule(revenue, "warning")["message"] == (
        "Partner-sourced revenue (12 months) is USD 3,000,000, below the warning threshold "
        "of USD 4,000,000"
    )


def test_lower_is_better_kpis_fire_above_their_threshold() -> None:
    by = by_id(kpis.evaluate_all(KpiInputs(days_to_close=[200, 400])))
    days = by["avg_days_to_close"]
    assert days["value"] == 300.0
    assert days["status"] == "alert"
    assert rule(days, "alert")["condition"] == "avg_days_to_close > 270 days"
    by = by_id(kpis.evaluate_all(KpiInputs(days_to_close=[120, 150])))
    assert by["avg_days_to_close"]["status"] == "ok"


def test_certifications_warn_in_the_window_and_alert_when_one_is_close() -> None:
    by = by_id(kpis.evaluate_all(KpiInputs(certification_days=[75, 120])))
    certs = by["certifications_expiring"]
    assert certs["value"] == 1.0  # 120 days is outside the 90-day window
    assert certs["status"] == "warning"
    by = by_id(kpis.evaluate_all(KpiInputs(certification_days=[40, 75])))
    certs = by["certifications_expiring"]
    assert certs["status"] == "alert"
    assert rule(certs, "alert")["message"] == (
        "1 certification(s) expire within 60 days (soonest in 40 days)"
    )


def test_win_rate_and_retention() -> None:
    by = by_id(
        kpis.evaluate_all(KpiInputs(won=3, lost=7, employees_retained=9, employees_total=10))
    )
    assert by["win_rate"]["value"] == 30.0
    assert by["win_rate"]["status"] == "warning"
    assert by["key_employee_retention"]["value"] == 90.0
    assert by["key_employee_retention"]["status"] == "ok"


def test_overrides_change_the_rules() -> None:
    settings = kpis.resolve(kpis.parse_overrides(["win_rate.warning=20", "win_rate.alert=10"]))
    by = by_id(kpis.evaluate_all(KpiInputs(won=3, lost=7), settings))
    assert by["win_rate"]["status"] == "ok"
    assert rule(by["win_rate"], "alert")["condition"] == "win_rate < 10%"
    settings = kpis.resolve({"partner_sourced_revenue": {"currency": "eur"}})
    by = by_id(kpis.evaluate_all(KpiInputs(sourced_revenue={"EUR": Decimal("6e6")}), settings))
    assert by["partner_sourced_revenue"]["unit"] == "EUR"
    assert by["partner_sourced_revenue"]["status"] == "ok"
    # The defaults are untouched by a resolve.
    assert kpis.DEFAULT_SETTINGS["win_rate"]["alert"] == 25


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"nope": {"alert": 1}}, ["threshold", "nope"]),
        ({"win_rate": {"colour": 1}}, ["threshold", "win_rate", "colour"]),
        ({"win_rate": {"alert": "lots"}}, ["threshold", "win_rate", "alert"]),
        ({"win_rate": {"alert": -1}}, ["threshold", "win_rate", "alert"]),
        ({"win_rate": {"alert": 60}}, ["threshold", "win_rate", "alert"]),  # above warning
        ({"avg_days_to_close": {"alert": 100}}, ["threshold", "avg_days_to_close", "alert"]),
        ({"partner_sourced_revenue": {"currency": "dollars"}},
         ["threshold", "partner_sourced_revenue", "currency"]),
        ({"certifications_expiring": {"window_days": 365}},
         ["threshold", "certifications_expiring", "window_days"]),
    ],
)  # fmt: skip
def test_bad_settings_name_the_field(overrides: dict[str, Any], loc: list[str]) -> None:
    with pytest.raises(Invalid) as err:
        kpis.resolve(overrides)
    assert err.value.errors[0]["loc"] == loc


def test_bad_override_strings_name_their_position() -> None:
    with pytest.raises(Invalid) as err:
        kpis.parse_overrides(["win_rate.alert=20", "win_rate=20", "x.y="])
    assert [e["loc"] for e in err.value.errors] == [["threshold", 1], ["threshold", 2]]


def test_fired_alerts_lists_the_worst_fired_rule_per_kpi() -> None:
    rows = kpis.evaluate_all(KpiInputs(realisation_pct={"USD": 50.0}, deals_in_diligence=3))
    fired = kpis.fired_alerts(rows)
    ids = [a["id"] for a in fired]
    # Both of realisation's rules fired; the alert stands for the warning too.
    realisation = next(k for k in rows if k["id"] == "synergy_realisation")
    assert sum(rule["fired"] for rule in realisation["rules"]) == 2
    assert "synergy_realisation.alert" in ids and "synergy_realisation.warning" not in ids
    assert all(a["fired"] for a in fired)
    assert not any(a["kpi"] == "deals_in_diligence" for a in fired)
