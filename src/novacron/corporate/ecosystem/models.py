"""ORM models: the ecosystem (JVs, licensing, labs, academic, government)."""

from __future__ import annotations
