"""Excel export over HTTP and the CLI: a stored DCF version and stateless inputs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from novacron.corporate.export.xlsx import XLSX_MEDIA_TYPE
from novacron.testing.corporate import CorporateServer

DCF: dict[str, Any] = {
    "currency": "EUR",
    "base_revenue": 1000,
    "revenue_growth": [0.1, 0.08, 0.06],
    "ebitda_margin": 0.25,
    "da_pct_revenue": 0.04,
    "capex_pct_revenue": 0.05,
    "nwc_pct_revenue": 0.1,
    "tax_rate": 0.25,
    "wacc": 0.09,
    "terminal": {"method": "gordon", "growth": 0.02},
    "mid_year": True,
    "net_debt": 200,
    "shares": {"basic": 100, "options": [{"count": 5, "strike": 10}]},
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if "json" in response.headers.get("content-type", "") else response


def workbook(content: bytes) -> Any:
    return load_workbook(io.BytesIO(content))


def test_export_a_stored_valuation_and_stateless_inputs(corp: CorporateServer) -> None:
    api = corp.api
    ok(api.post("/corporate/targets", json={"name": "Acme Storage", "category": "storage"}), 201)
    base = "/corporate/targets/Acme Storage/valuations"
    stored = ok(api.post(base, json={"kind": "dcf", "inputs": DCF, "note": "base"}), 201)
    ok(api.post(base, json={"kind": "npv", "inputs": {"rate": 0.1, "cashflows": [-1, 2],
                                                       "timing": "t0"}}), 201)  # fmt: skip

    response = ok(api.get(f"{base}/1/export.xlsx"))
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    assert 'filename="Acme-Storage-v1-dcf.xlsx"' in response.headers["content-disposition"]
    wb = workbook(response.content)
    assert wb.sheetnames == ["Summary", "Inputs", "DCF", "Sensitivity"]
    assert wb["DCF"]["C6"].value == "=B6*(1+C5)"
    assert wb["Inputs"]["B11"].value == 0.09
    summary = {wb["Summary"][f"A{r}"].value: r for r in range(1, 40)}
    ev_row = summary["Enterprise value"]
    engine_ev = stored["result"]["enterprise_value"]
    assert wb["Summary"][f"C{ev_row}"].value == pytest.approx(engine_ev, rel=1e-14)
    assert wb["Summary"][f"B{summary['Valuation version']}"].value == "v1"
    assert wb["Summary"][f"B{summary['Note']}"].value == "base"

    # stateless: the same inputs give the same engine figures
    response = ok(api.post("/corporate/calc/dcf/export.xlsx", json=DCF))
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    assert 'filename="dcf-EUR.xlsx"' in response.headers["content-disposition"]
    stateless = workbook(response.content)["Summary"]
    rows = {stateless[f"A{r}"].value: r for r in range(1, 40)}
    assert stateless[f"B{rows['Target']}"].value == "(stateless calculation)"
    assert stateless[f"C{rows['Enterprise value']}"].value == pytest.approx(engine_ev, rel=1e-14)

    # refusals name what is wrong
    problem = ok(api.get(f"{base}/2/export.xlsx"), 422)
    assert problem["errors"][0]["loc"] == ["path", "version"]
    assert "npv model" in problem["detail"]
    assert ok(api.get(f"{base}/9/export.xlsx"), 404)["detail"] == "Acme Storage has no valuation v9"
    assert ok(api.get("/corporate/targets/nobody/valuations/1/export.xlsx"), 404)
    bad = ok(api.post("/corporate/calc/dcf/export.xlsx", json={**DCF, "wacc": 0.01}), 422)
    assert bad["errors"][0]["loc"] == ["inputs", "terminal", "growth"]
    bad = ok(api.post("/corporate/calc/dcf/export.xlsx", json={**DCF, "shares": {"basic": "x"}}),
             422)  # fmt: skip
    assert bad["errors"][0]["loc"] == ["inputs", "shares", "basic"]


def test_cli_valuations_export(corp: CorporateServer, tmp_path: Path) -> None:
    api = corp.api
    ok(api.post("/corporate/targets", json={"name": "Qubit", "category": "quantum"}), 201)
    ok(api.post("/corporate/targets/Qubit/valuations", json={"kind": "dcf", "inputs": DCF}), 201)
    out = tmp_path / "q.xlsx"
    result = corp.cli("corporate", "valuations", "export", "Qubit", "1", "--file", str(out))
    assert result.stdout.startswith(f"wrote {out} (") and result.stdout.endswith(" bytes)\n")
    assert workbook(out.read_bytes())["DCF"]["C8"].value == "=C6*C7"
    data = corp.cli.json("corporate", "valuations", "export", "Qubit", "1", "--file", str(out))
    assert data == {"file": str(out), "bytes": out.stat().st_size}
    line = corp.cli.error("corporate", "valuations", "export", "Qubit", "7", "--file", str(out))
    assert line == "error: Qubit has no valuation v7"
    line = corp.cli.error(
        "corporate", "valuations", "export", "Qubit", "1", "--file", str(tmp_path / "no/x.xlsx")
    )
    assert line.startswith("error: ") and "cannot write" in line and "no/x.xlsx" in line
