"""``novacron corporate demo``: load the sample portfolio of ``data`` through the
services, so every gate, roll-up, tier rule and alert runs on it as on real data.

Idempotent by name within the project it loads into: a target, partner, programme,
joint venture, licence, lab, academic or government partnership that already exists
there (by its name, or institution / agency) is skipped with everything under it, so
running the demo twice changes nothing and a user's own records are never touched or
deleted. Everything is loaded in the caller's transaction: a failure leaves nothing
half-loaded.

Dates are offsets from ``today``. Stage history is back-dated so the pipeline looks
lived-in (days in stage, days to close): the M&A service's ``create_target``,
``advance`` and ``drop`` take the moment to record (``at=``).

Where things live:

    data.py       the portfolio as plain data (day offsets, names, amounts)
    common.py     the loader state (today, moments, counts), the by-name check
    targets.py    targets through the pipeline; closed deals' integration programmes
    partners.py   partners, registrations, programmes, MDF, rebates
    ecosystem.py  joint venture, licences, lab, academic and government partnerships
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from novacron.corporate.demo import data
from novacron.corporate.demo.common import Loader, exists
from novacron.corporate.demo.ecosystem import load_ecosystem
from novacron.corporate.demo.partners import load_partners
from novacron.corporate.demo.targets import load_target
from novacron.corporate.ma.service import targets as ma_targets
from novacron.corporate.strategy.schemas import DemoOut

__all__ = ["load"]


def load(session: Session, by: str, today: date, *, project_id: str) -> DemoOut:
    """Load whatever part of the demo portfolio is missing from project ``project_id``
    into it (see the module docstring)."""
    loader = Loader(session, by, today, project_id)
    for spec in data.TARGETS:
        if exists(ma_targets.find_target, loader, spec.name):
            loader.skip("targets")
        else:
            load_target(loader, spec)
    load_partners(loader)
    load_ecosystem(loader)
    made = sum(loader.created.values())
    message = (
        f"demo portfolio loaded: {made} records created"
        if made
        else "the demo portfolio is already loaded: nothing to do"
    )
    if made and loader.skipped:
        message += f" ({sum(loader.skipped.values())} already there, left as they were)"
    return DemoOut(created=loader.created, skipped=loader.skipped, message=message)
