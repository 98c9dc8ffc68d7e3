"""ORM models: Integration programmes generated when a deal closes."""

from __future__ import annotations
