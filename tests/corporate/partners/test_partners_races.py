"""Concurrent requests on one server (the real races are on PostgreSQL, READ COMMITTED;
SQLite serializes writers): an MDF request is approved once and within the budget, rival
deal registrations have one winner, a rebate period is booked once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from novacron.testing.corporate import CorporateServer


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def at_once(
    corp: CorporateServer, calls: list[Callable[[httpx.Client], httpx.Response]]
) -> list[int]:
    """Each call on its own connection, all started together; their status codes."""

    def run(call: Callable[[httpx.Client], httpx.Response]) -> int:
        with httpx.Client(
            base_url=str(corp.api.base_url), headers=dict(corp.api.headers), timeout=60
        ) as client:
            return call(client).status_code

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def partner(corp: CorporateServer, name: str) -> dict[str, Any]:
    body = {"name": name, "type": "cloud", "currency": "USD", "status": "active"}
    return ok(corp.api.post("/corporate/partners", json=body), 201)  # type: ignore[no-any-return]


def test_concurrent_mdf_approvals_book_once_within_the_budget(corp: CorporateServer) -> None:
    api = corp.api
    p = partner(corp, "Northwind")
    prog = ok(
        api.post(
            "/corporate/partner-programmes",
            json={"name": "Launch", "kind": "marketing", "start_on": "2026-01-01",
                  "mdf_budget": "1000", "budget_currency": "USD"},
        ),
        201,
    )  # fmt: skip
    ok(
        api.post(f"/corporate/partner-programmes/{prog['id']}/enrol", json={"partner": p["id"]}),
        201,
    )
    body = {"partner": p["id"], "programme": prog["id"], "activity": "webinar",
            "amount": "600", "currency": "USD", "planned_start": "2026-02-01",
            "planned_end": "2026-02-28"}  # fmt: skip
    one = ok(api.post("/corporate/mdf", json=body), 201)["id"]
    # The same request approved six times at once: one approval, five 409s, one booking.
    codes = at_once(corp, [lambda c: c.post(f"/corporate/mdf/{one}/approve")] * 6)
    assert Counter(codes) == {200: 1, 409: 5}
    # Three more requests of 600 against the 400 left: none fits (each is refused 422).
    others = [ok(api.post("/corporate/mdf", json=body), 201)["id"] for _ in range(3)]
    calls = [lambda c, i=i: c.post(f"/corporate/mdf/{i}/approve") for i in others]
    assert Counter(at_once(corp, calls)) == {422: 3}
    ledger = ok(api.get("/corporate/mdf/ledger", params={"programme": prog["id"]}))
    assert [(e["kind"], e["amount"]) for e in ledger["entries"]] == [("mdf_approved", "600.00")]
    assert ledger["balances"][0]["approved"] == "600.00"
    # Two requests of 400 and 300 at once against the 400 left: exactly one fits.
    small = [ok(api.post("/corporate/mdf", json=body | {"amount": a}), 201)["id"]
             for a in ("400", "300")]  # fmt: skip
    calls = [lambda c, i=i: c.post(f"/corporate/mdf/{i}/approve") for i in small]
    assert sorted(at_once(corp, calls)) == [200, 422]
    balance = ok(api.get("/corporate/mdf/ledger", params={"programme": prog["id"]}))["balances"]
    assert balance[0]["approved"] in ("1000.00", "900.00")
    seqs = [e["seq"] for e in ok(api.get("/corporate/mdf/ledger"))["entries"]]
    assert seqs == sorted(set(seqs)) and len(seqs) == 2  # distinct, in booking order


def test_concurrent_rival_approvals_have_one_winner(corp: CorporateServer) -> None:
    regs = []
    for i in range(4):
        p = partner(corp, f"Reseller {i}")
        body = {"partner": p["id"], "customer_name": "Globex Corp", "product": "NovaCron",
                "amount": "10000", "currency": "USD"}  # fmt: skip
        regs.append(ok(corp.api.post("/corporate/deal-registrations", json=body), 201)["id"])
    calls = [lambda c, r=r: c.post(f"/corporate/deal-registrations/{r}/approve") for r in regs]
    codes = at_once(corp, calls)
    # Whoever was told "approved" is the one approved; every other one was refused.
    assert Counter(codes) == {200: 1, 409: 3}
    statuses = [ok(corp.api.get(f"/corporate/deal-registrations/{r}"))["status"] for r in regs]
    assert statuses[codes.index(200)] == "approved"
    assert sorted(statuses) == ["approved", "rejected", "rejected", "rejected"]


def test_concurrent_rebate_runs_book_a_period_once(corp: CorporateServer) -> None:
    api = corp.api
    p = partner(corp, "Initech")
    reg = ok(
        api.post(
            "/corporate/deal-registrations",
            json={"partner": p["id"], "customer_name": "Umbrella", "product": "NovaCron",
                  "amount": "100000", "currency": "USD",
                  "registered_at": "2026-01-02T00:00:00Z", "valid_days": 700},
        ),
        201,
    )  # fmt: skip
    ok(api.post(f"/corporate/deal-registrations/{reg['id']}/approve"))
    ok(
        api.post(
            f"/corporate/deal-registrations/{reg['id']}/close",
            json={"outcome": "won", "closed_on": "2026-01-10"},
        )
    )
    run = {"period_start": "2026-01-01", "period_end": "2026-03-31", "partner": p["id"],
           "book": True}  # fmt: skip
    codes = at_once(corp, [lambda c: c.post("/corporate/rebates/compute", json=run)] * 4)
    assert Counter(codes) == {200: 1, 409: 3}
    entries = ok(api.get("/corporate/mdf/ledger", params={"partner": p["id"]}))["entries"]
    assert [e["kind"] for e in entries] == ["rebate_accrued"]
