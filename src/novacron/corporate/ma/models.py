"""ORM models: the M&A pipeline."""

from __future__ import annotations
