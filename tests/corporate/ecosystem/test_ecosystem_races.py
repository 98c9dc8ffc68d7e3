"""Concurrent writes that check a licence's or a venture's children (PostgreSQL is where
they race; SQLite serializes writers): overlapping sales reports, one wins."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from novacron.testing.corporate import CorporateServer


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_overlapping_sales_reports_sent_at_once_keep_one(corp: CorporateServer) -> None:
    lic = ok(
        corp.api.post(
            "/corporate/ecosystem/licenses",
            json={"name": "Codec", "direction": "out", "licensor": "us", "licensee": "them",
                  "term_start": "2026-01-01", "term_end": "2027-12-31", "currency": "USD",
                  "royalty_tiers": [{"from_sales": "0", "rate_pct": "5"}]},
        ),
        201,
    )  # fmt: skip
    # Four different but overlapping quarters: the overlap check must see the winner.
    periods = [("2026-01-01", "2026-03-31"), ("2026-02-01", "2026-04-30"),
               ("2026-03-01", "2026-05-31"), ("2026-01-15", "2026-04-15")]  # fmt: skip

    def send(period: tuple[str, str]) -> int:
        with httpx.Client(
            base_url=str(corp.api.base_url), headers=dict(corp.api.headers), timeout=60
        ) as client:
            body = {"period_start": period[0], "period_end": period[1], "currency": "USD",
                    "net_sales": "1000"}  # fmt: skip
            url = f"/corporate/ecosystem/licenses/{lic['id']}/sales-reports"
            return client.post(url, json=body).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(send, periods))
    assert Counter(codes) == {201: 1, 422: 3}
    reports = ok(corp.api.get(f"/corporate/ecosystem/licenses/{lic['id']}/sales-reports"))
    assert len(reports) == 1 and reports[0]["net_sales"] == "1000.00"
