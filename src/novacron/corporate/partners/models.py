"""ORM models: Partners, tiers, programmes, deal registration, MDF and rebates."""

from __future__ import annotations
