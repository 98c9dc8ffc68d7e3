"""``GET /api/v1/corporate/dashboard`` and ``novacron corporate dashboard``."""

from __future__ import annotations

from novacron.testing.corporate import CorporateServer


def test_dashboard_api_cli_and_bad_thresholds(corp: CorporateServer) -> None:
    empty = corp.api.get("/corporate/dashboard", params={"today": "2026-06-30"})
    assert empty.status_code == 200, empty.text
    assert empty.json()["as_of"] == "2026-06-30"
    assert empty.json()["recommendations"] == []

    assert corp.api.post("/corporate/demo").status_code == 201
    body = corp.api.get(
        "/corporate/dashboard", params=[("threshold", "synergy_realisation.alert=70"),
                                        ("threshold", "synergy_realisation.warning=75")]
    ).json()  # fmt: skip
    realisation = next(k for k in body["kpis"] if k["id"] == "synergy_realisation")
    assert realisation["status"] == "ok"  # 78.2 % is fine against 75/70
    assert body["settings"]["synergy_realisation"]["alert"] == 70

    bad = corp.api.get("/corporate/dashboard", params={"threshold": "win_rate.alert=60"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["loc"] == ["threshold", "win_rate", "alert"]
    bad = corp.api.get("/corporate/dashboard", params={"threshold": "oops"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["threshold", 0]
    bad = corp.api.get("/corporate/dashboard", params={"today": "yesterday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "today"]

    out = corp.cli("corporate", "dashboard").stdout
    assert "Executive dashboard" in out
    assert "M&A pipeline" in out and "due_diligence" in out
    assert "Synergy realisation" in out and "alert" in out
    assert "Realisation on cost synergies is 62% of plan in Helios Storage integration" in out
    assert "USD 140,000,000" in out  # the negotiation stage's value
    data = corp.cli.json("corporate", "dashboard", "--threshold", "win_rate.alert=10")
    assert data["settings"]["win_rate"]["alert"] == 10
    assert {k["id"] for k in data["kpis"]} >= {"win_rate", "mdf_utilisation"}
    error = corp.cli.error("corporate", "dashboard", "--threshold", "nope.alert=1")
    assert error.startswith("error: ") and "threshold.nope" in error
