"""What the corporate tests share: a signed-in server handle (see tests/corporate/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

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
