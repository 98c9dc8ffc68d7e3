"""What the corporate tests share: a signed-in server handle (see tests/corporate/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from novacron.core.database import Database
from novacron.testing.cli import CLI


@dataclass
class CorporateServer:
    url: str
    token: str
    api: httpx.Client
    """``<url>/api/v1`` with the admin token."""
    cli: CLI
    db: Database
    """The server's database, for assertions on what was stored."""


SAMPLE_DCF: dict[str, Any] = {
    # A five-year DCF as the calc API takes it (``POST /api/v1/corporate/calc/dcf``).
    "currency": "USD",
    "base_revenue": 1000,
    "revenue_growth": [0.1, 0.08, 0.06, 0.05, 0.04],
    "ebitda_margin": 0.25,
    "da_pct_revenue": 0.04,
    "capex_pct_revenue": 0.05,
    "nwc_pct_revenue": 0.1,
    "tax_rate": 0.25,
    "wacc": 0.09,
    "terminal": {"method": "gordon", "growth": 0.025},
    "mid_year": False,
    "net_debt": 200,
    "shares": {"basic": 100},
}
