"""``evaluate`` under malformed input: every kind, fed extreme and ill-typed values in
every field, answers or raises ``Invalid`` with field paths, never another exception (a
500 from ``POST /api/v1/corporate/calc/{kind}``) and never a NaN/inf (a silent JSON null).

The review that added this found, among others: PMT over 5e-324 periods
(ZeroDivisionError), IRR of ±1e308 flows (OverflowError in math.fsum), a negative Monte
Carlo seed or a -0.0 spread (numpy ValueError), synergies at a 1e308 discount rate
(OverflowError), and inf multiples / EVs / per-share values returned as null."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.calc import service
from novacron.corporate.calc.service import KINDS, Kind, evaluate

DCF: dict[str, Any] = {
    "currency": "USD", "base_revenue": 1000, "revenue_growth": [0.1, 0.08, 0.06],
    "ebitda_margin": 0.25, "da_pct_revenue": 0.04, "capex_pct_revenue": 0.05,
    "nwc_pct_revenue": 0.1, "tax_rate": 0.25, "wacc": 0.09,
    "terminal": {"method": "gordon", "growth": 0.025}, "mid_year": False, "net_debt": 200,
    "shares": {"basic": 100, "options": [{"count": 5, "strike": 10}], "rsus": 1},
}  # fmt: skip
VALID: dict[str, dict[str, Any]] = {
    "npv": {"rate": 0.1, "timing": "end", "cashflows": [-100, 50, 60], "currency": "USD"},
    "irr": {"cashflows": [-100, 50, 60]},
    "xirr": {"cashflows": [-100, 50, 60], "dates": ["2020-01-01", "2020-06-01", "2021-03-01"]},
    "mirr": {"cashflows": [-100, 50, 60], "finance_rate": 0.1, "reinvest_rate": 0.12},
    "pmt": {"rate": 0.01, "nper": 12, "pv": 1000, "fv": 0, "when": "end"},
    "payback": {"cashflows": [-100, 50, 60], "rate": 0.1},
    "wacc": {"equity_value": 600, "debt_value": 400, "cost_of_debt": 0.05, "tax_rate": 0.25,
             "risk_free": 0.03, "beta": 1.1, "market_premium": 0.05},
    "dcf": DCF,
    "sensitivity": {**DCF, "row": {"driver": "wacc", "values": [0.08, 0.09]},
                    "col": {"driver": "terminal_growth", "values": [0.02, 0.03]}},
    "scenarios": {**DCF, "scenarios": {"base": {}, "bear": {"wacc": 0.11}},
                  "probabilities": {"base": 0.5, "bear": 0.5}},
    "monte_carlo": {**DCF, "distributions": {
        "wacc": {"type": "normal", "mean": 0.09, "sd": 0.01},
        "ebitda_margin": {"type": "lognormal", "mu": -1.4, "sigma": 0.1}},
        "paths": 64, "seed": 1},
    "comps": {
        "peers": [{"name": "A", "currency": "EUR", "enterprise_value": 100, "ebitda": 10,
                   "revenue": 50, "net_income": 5, "market_cap": 80},
                  {"name": "B", "currency": "EUR", "enterprise_value": 120, "ebitda": 11,
                   "eps": 2, "price": 30}],
        "target": {"currency": "EUR", "ebitda": 5, "revenue": 20, "net_income": 2,
                   "net_debt": 10, "diluted_shares": 2}},
    "precedents": {
        "deals": [{"acquirer": "X", "target": "Y", "date": "2020-01-01", "currency": "EUR",
                   "enterprise_value": 100, "ebitda": 10, "revenue": 40, "premium": 0.3},
                  {"acquirer": "X", "target": "Z", "date": "2021-01-01", "currency": "EUR",
                   "enterprise_value": 130, "ebitda": 10, "premium": 0.2}],
        "target": {"currency": "EUR", "ebitda": 5, "net_debt": 10, "diluted_shares": 2},
        "unaffected_price": 10},
    "football_field": {"currency": "USD", "bars": [{"label": "a", "low": 1, "high": 2},
                       {"label": "b", "low": 1.5, "high": 3, "midpoint": 2}],
                       "current_price": 2, "offer_price": 2.5},
    "synergies": {"currency": "USD", "discount_rate": 0.09, "tax_rate": 0.25,
                  "revenue_run_rate": 100, "revenue_phase_in": [0.25, 0.5, 1.0],
                  "revenue_margin": 0.3, "cost_run_rate": 50, "cost_phase_in": [0.5, 1.0],
                  "integration_costs": [40, 20], "terminal_growth": 0.02},
    "accretion_dilution": {
        "acquirer": {"currency": "USD", "net_income": 500, "diluted_shares": 100,
                     "share_price": 50, "tax_rate": 0.25, "cash": 1000,
                     "interest_rate_on_cash": 0.02},
        "target": {"currency": "USD", "net_income": 100, "purchase_price": 1500},
        "consideration": {"cash": 0.4, "stock": 0.3, "debt": 0.3},
        "debt_interest_rate": 0.06, "synergies": 40, "transaction_fees": 20, "write_up_da": 8},
}  # fmt: skip

EXTREMES = st.sampled_from(
    [0, -0.0, 1, -1, 2, -2, 0.999999, -0.999999, -1.000001, 1e308, -1e308, 1e300, -1e300,
     1e-308, 5e-324, -5e-324, 1e15, 2**70, -(2**70), 10**400, 700, -700, 1e-12, "x", "",
     None, [], {}, True, [0], [1e308, -1e308], ["2020-01-01"], "usd", "GBP"]
)  # fmt: skip


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``obj`` (dict keys and list indices)."""
    out = [prefix] if prefix else []
    items: Any = ()
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    for key, value in items:
        out += paths(value, (*prefix, key))
    return out


def put(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(has_non_finite(v) for v in value)
    return False


@pytest.mark.parametrize("kind", list(VALID))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_malformed_inputs_only_raise_invalid_with_a_field_path(kind: str, data: Any) -> None:
    inputs = copy.deepcopy(VALID[kind])
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths(inputs)))
        put(inputs, where, copy.deepcopy(data.draw(EXTREMES)))
    try:
        out = evaluate(kind, inputs)
    except Invalid as exc:
        assert exc.errors, exc.detail
        assert all(e["loc"] and e["loc"][0] == "inputs" for e in exc.errors), exc.errors
        return
    assert not has_non_finite(out)
    json.dumps(out, allow_nan=False)


def test_every_kind_has_a_valid_example_here() -> None:
    assert set(VALID) == set(KINDS)
    for kind, inputs in VALID.items():
        assert evaluate(kind, copy.deepcopy(inputs))["kind"] == kind


def test_currency_tag_must_be_a_code_and_is_echoed() -> None:
    # "usd" and "US1" were echoed as given by npv/pmt; irr, xirr, mirr, payback and wacc
    # accepted a tag and dropped it
    with pytest.raises(Invalid) as exc:
        evaluate("npv", {**VALID["npv"], "currency": "usd"})
    assert exc.value.errors[0]["loc"] == ["inputs", "currency"]
    for kind in ("irr", "xirr", "mirr", "payback", "wacc"):
        assert evaluate(kind, {**VALID[kind], "currency": "CHF"})["currency"] == "CHF", kind
    wacc = evaluate("wacc", VALID["wacc"])
    assert "currency" not in wacc
    assert wacc["wacc"] == pytest.approx(0.6 * (0.03 + 1.1 * 0.05) + 0.4 * 0.05 * 0.75)


def test_negative_seed_is_refused_by_the_schema() -> None:
    with pytest.raises(Invalid) as exc:
        evaluate("monte_carlo", {**VALID["monte_carlo"], "seed": -1})
    assert exc.value.errors[0]["loc"] == ["inputs", "seed"]


def test_an_unforeseen_overflow_is_still_a_422(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last line of defence: a result holding an inf, or an ArithmeticError the
    engine did not attribute to a field, becomes ``Invalid`` at ``["inputs"]``."""
    spec = KINDS["irr"]

    def inf_result(_: Any) -> dict[str, Any]:
        return {"irr": 0.1, "roots": [0.1, math.inf]}

    def divides_by_zero(_: Any) -> dict[str, Any]:
        return {"irr": 1 / 0}

    for run, where in ((inf_result, "roots[1]"), (divides_by_zero, "ZeroDivisionError")):
        monkeypatch.setitem(service.KINDS, "irr", Kind(spec.name, "", spec.schema, run))
        with pytest.raises(Invalid) as exc:
            evaluate("irr", VALID["irr"])
        assert exc.value.errors[0]["loc"] == ["inputs"]
        assert where in exc.value.detail
