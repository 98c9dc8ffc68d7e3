"""Query parameters the integration routes share."""

from __future__ import annotations

from datetime import date

from fastapi import Query

from novacron.corporate.integration.service.common import today


def as_of(
    as_of: date | None = Query(None, description="Compute RAG and roll-ups as of this date"),
) -> date:
    return as_of or today()
