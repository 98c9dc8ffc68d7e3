"""``novacron corporate calc``: readable answers, JSON with --output json, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from novacron.testing.corporate import CorporateServer


def test_calc_cli(corp: CorporateServer, tmp_path: Path) -> None:
    cli = corp.cli
    listed = cli("corporate", "calc").stdout
    assert "accretion_dilution" in listed and "monte_carlo" in listed

    out = cli("corporate", "calc", "npv", "--rate", "0.1", "--timing", "end", "--",
              "-10000", "3000", "4200", "6800").stdout  # fmt: skip
    assert "NPV 1,188.44 at 10.00%" in out

    # Excel IRR help: -70,000, 12,000 … 26,000 → 8.66%
    out = cli("corporate", "calc", "irr", "--", "-70000", "12000", "15000", "18000",
              "21000", "26000").stdout  # fmt: skip
    assert out.strip() == "IRR 8.66%"
    data = cli.json("corporate", "calc", "irr", "--", "-100", "39", "59", "55", "20")
    assert data["kind"] == "irr" and data["irr"] == pytest.approx(0.2809484, abs=1e-6)

    model = tmp_path / "deal.json"
    model.write_text(
        json.dumps(
            {"acquirer": {"currency": "EUR", "net_income": 100, "diluted_shares": 100,
                          "share_price": 20, "tax_rate": 0.25},
             "target": {"currency": "EUR", "net_income": 10, "purchase_price": 300},
             "consideration": {"stock": 1}}
        )
    )  # fmt: skip
    out = cli("corporate", "calc", "accretion_dilution", "--input", str(model)).stdout
    assert out.startswith("dilutive -4.35%")
    assert "break-even pre-tax synergies 6.67" in out


def test_calc_cli_errors(corp: CorporateServer, tmp_path: Path) -> None:
    cli = corp.cli
    line = cli.error("corporate", "calc", "npv", "--rate", "0.1", "--", "-100", "110")
    assert "inputs.timing" in line and "required" in line.lower()
    line = cli.error("corporate", "calc", "bogus", "--", "1")
    assert "unknown calculation kind 'bogus'" in line
    line = cli.error("corporate", "calc", "comps", "--", "1")
    assert "inputs.cashflows" in line
    line = cli.error("corporate", "calc", "irr", "--", "100", "50")
    assert "cashflows" in line
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"currency": "USD", "discount_rate": 0.02, "tax_rate": 0.2,
                               "cost_run_rate": 5, "cost_phase_in": [1],
                               "terminal_growth": 0.03}))  # fmt: skip
    line = cli.error("corporate", "calc", "synergies", "--input", str(bad))
    assert "inputs.terminal_growth" in line
    line = cli.error("corporate", "calc", "dcf", "--input", str(tmp_path / "missing.json"))
    assert line.startswith("error: cannot read")
