"""The calc registry without a server: JSON in, the finance engine's answer out, and
bad input as ``Invalid`` with field paths under "inputs"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.calc.cli import build_inputs
from novacron.corporate.calc.formatting import readable
from novacron.corporate.calc.service import KINDS, evaluate, jsonable, kinds
from novacron.corporate.finance.money import CurrencyMismatch
from novacron.testing.corporate import SAMPLE_DCF as DCF

ACCRETION: dict[str, Any] = {
    "acquirer": {
        "currency": "USD", "net_income": 500, "diluted_shares": 100, "share_price": 50,
        "tax_rate": 0.25, "cash": 1000, "interest_rate_on_cash": 0.02,
    },
    "target": {"currency": "USD", "net_income": 100, "purchase_price": 1500},
    "consideration": {"cash": 0.4, "stock": 0.3, "debt": 0.3},
    "debt_interest_rate": 0.06,
    "synergies": 40,
    "transaction_fees": 20,
    "write_up_da": 8,
}  # fmt: skip


def locs(err: pytest.ExceptionInfo[Invalid]) -> list[list[Any]]:
    return [e["loc"] for e in err.value.errors]


def test_every_kind_is_listed_with_a_description() -> None:
    listed = kinds()
    assert [k["kind"] for k in listed] == list(KINDS)
    assert {"npv", "irr", "dcf", "comps", "accretion_dilution", "monte_carlo"} <= set(KINDS)
    assert all(k["description"] for k in listed)


def test_npv_excel_help_example() -> None:
    """Excel NPV help: rate 10%, -10,000 then 3,000, 4,200, 6,800 at period ends → 1,188.44."""
    out = evaluate("npv", {"rate": 0.1, "timing": "end", "cashflows": [-10000, 3000, 4200, 6800]})
    assert out["kind"] == "npv"
    assert out["npv"] == pytest.approx(1188.44, abs=0.005)
    assert "NPV 1,188.44 at 10.00%" in readable("npv", out)


def test_irr_excel_help_example() -> None:
    """Excel IRR help: -70,000, 12,000, 15,000, 18,000, 21,000, 26,000 → 8.66%."""
    out = evaluate("irr", {"cashflows": [-70000, 12000, 15000, 18000, 21000, 26000]})
    assert out["irr"] == pytest.approx(0.0866, abs=5e-5)
    assert out["ambiguous"] is False


def test_accretion_through_json() -> None:
    out = evaluate("accretion_dilution", ACCRETION)
    assert out["pro_forma_net_income"] == pytest.approx(594.45)
    assert out["accretion_pct"] == pytest.approx(9.0733944954)
    assert out["adjustments"]["interest_on_new_debt"]["after_tax"] == pytest.approx(-20.25)
    json.dumps(out)  # plain JSON
    assert readable("accretion_dilution", out).startswith("accretive +9.07%")


def test_comps_nm_is_a_string_in_json() -> None:
    out = evaluate(
        "comps",
        {
            "peers": [
                {"name": "A", "currency": "EUR", "enterprise_value": 100, "ebitda": 10},
                {"name": "B", "currency": "EUR", "enterprise_value": 100, "ebitda": -1},
            ],
            "target": {"currency": "EUR", "ebitda": 5, "net_debt": 10, "diluted_shares": 2},
        },
    )
    assert [p["ev_ebitda"] for p in out["peers"]] == [10, "NM"]
    assert out["summary"]["ev_ebitda"]["nm_count"] == 1
    assert out["implied"][0]["per_share"]["mid"] == pytest.approx(20)  # (5×10 − 10) / 2
    assert "quartiles: inclusive" in readable("comps", out)


def test_dcf_family_through_json() -> None:
    base = evaluate("dcf", DCF)
    assert base["currency"] == "USD" and len(base["rows"]) == 5
    assert base["equity_value"] == pytest.approx(base["enterprise_value"] - 200)
    grid = evaluate(
        "sensitivity",
        {**DCF, "row": {"driver": "wacc", "values": [0.08, 0.09]},
         "col": {"driver": "terminal_growth", "values": [0.025, 0.03]}},
    )  # fmt: skip
    assert grid["cells"][1][0] == pytest.approx(base["value_per_share"])
    cases = evaluate("scenarios", {**DCF, "scenarios": {"base": {}, "bear": {"wacc": 0.11}}})
    assert cases["scenarios"][1]["result"]["value_per_share"] < base["value_per_share"]
    mc = evaluate(
        "monte_carlo",
        {**DCF, "distributions": {"wacc": {"type": "normal", "mean": 0.09, "sd": 0.005}},
         "paths": 2000, "seed": 7},
    )  # fmt: skip
    assert mc["valid_paths"] == 2000
    assert dict(map(tuple, mc["enterprise_value"]["percentiles"]))[50] == pytest.approx(
        base["enterprise_value"], rel=0.05
    )


def test_wacc_by_capm() -> None:
    out = evaluate(
        "wacc",
        {"equity_value": 600, "debt_value": 400, "cost_of_debt": 0.06, "tax_rate": 0.25,
         "risk_free": 0.04, "beta": 1.2, "market_premium": 0.05},
    )  # fmt: skip
    # Ke = 4% + 1.2 × 5% = 10%; WACC = 0.6 × 10% + 0.4 × 6% × 0.75 = 7.8%
    assert out["wacc"] == pytest.approx(0.078)
    with pytest.raises(Invalid) as err:
        evaluate("wacc", {"equity_value": 1, "debt_value": 1, "cost_of_debt": 0.05, "tax_rate": 0})
    assert ["inputs", "risk_free"] in locs(err)


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(Invalid) as err:
        evaluate("npvv", {})
    assert locs(err) == [["kind"]]
    assert "accretion_dilution" in err.value.errors[0]["msg"]


def test_pydantic_errors_have_paths_under_inputs() -> None:
    with pytest.raises(Invalid) as err:
        evaluate("npv", {"rate": "ten", "cashflows": [1, "x"], "timing": "end", "extra": 1})
    assert ["inputs", "rate"] in locs(err)
    assert ["inputs", "cashflows", 1] in locs(err)
    assert ["inputs", "extra"] in locs(err)
    with pytest.raises(Invalid) as err:
        evaluate("dcf", {**DCF, "wacc": float("inf")})
    assert locs(err) == [["inputs", "wacc"]]


def test_finance_errors_have_paths_under_inputs() -> None:
    with pytest.raises(Invalid) as err:
        evaluate("dcf", {**DCF, "wacc": 0.02})
    assert ["inputs", "terminal", "growth"] in locs(err)
    with pytest.raises(CurrencyMismatch) as mismatch:
        evaluate(
            "accretion_dilution",
            {**ACCRETION, "target": {**ACCRETION["target"], "currency": "EUR"}},
        )
    assert mismatch.value.errors[0]["loc"] == ["inputs", "target", "currency"]
    with pytest.raises(Invalid) as err:
        evaluate("accretion_dilution", {**ACCRETION, "consideration": {"cash": 0.5, "stock": 0.6}})
    assert locs(err) == [["inputs", "consideration"]]
    with pytest.raises(Invalid) as err:
        evaluate(
            "football_field",
            {"currency": "USD", "bars": [{"label": "a", "low": 1, "high": 2},
                                         {"label": "b", "low": 3, "high": 2}]},
        )  # fmt: skip
    assert locs(err) == [["inputs", "bars", 1, "low"]]


def test_jsonable_handles_non_finite_and_numpy() -> None:
    import numpy as np

    assert jsonable({"a": float("nan"), "b": np.float64(1.5), "c": np.arange(2), "d": (1,)}) == {
        "a": None, "b": 1.5, "c": [0, 1], "d": [1],
    }  # fmt: skip


def test_cli_inputs_merge_file_flows_and_options(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"rate": 0.2, "timing": "t0"}))
    inputs = build_inputs("npv", [-1.0, 2.0], str(path), {"rate": 0.1, "currency": None})
    assert inputs == {"rate": 0.1, "timing": "t0", "cashflows": [-1.0, 2.0]}
    with pytest.raises(Invalid) as err:
        evaluate("dcf", build_inputs("dcf", [1.0], None, {}))
    assert ["inputs", "cashflows"] in locs(err)
    path.write_text("[1, 2]")
    with pytest.raises(Invalid) as err:
        build_inputs("dcf", None, str(path), {})
    assert locs(err) == [["input"]]


@pytest.mark.parametrize("kind", ["synergies", "precedents", "payback", "pmt", "mirr"])
def test_readable_answers(kind: str) -> None:
    inputs: dict[str, dict[str, Any]] = {
        "synergies": {"currency": "USD", "discount_rate": 0.1, "tax_rate": 0.25,
                      "cost_run_rate": 40, "cost_phase_in": [1.0]},
        "precedents": {"deals": [{"acquirer": "a", "target": "b", "date": "2024-01-31",
                                  "currency": "USD", "enterprise_value": 100, "ebitda": 10,
                                  "premium": 0.3}], "unaffected_price": 10},
        "payback": {"cashflows": [-100, 30, 30], "rate": 0.1},
        "pmt": {"rate": 0.08 / 12, "nper": 120, "pv": 10000, "currency": "USD"},
        "mirr": {"cashflows": [-100, 60, 60], "finance_rate": 0.1, "reinvest_rate": 0.12},
    }  # fmt: skip
    expected = {
        "synergies": "NPV of synergies 27.27 USD",  # 40 × 0.75 / 1.1
        "precedents": "offer 13.00-13.00 USD per share",  # 10 × 1.3
        "payback": "payback never",
        "pmt": "PMT -121.33 USD",  # Excel PMT help: 8%/12, 10 years, 10,000 → -121.33
        "mirr": "MIRR ",
    }
    text = readable(kind, evaluate(kind, inputs[kind]))
    assert expected[kind] in text
