"""Pydantic types of the dashboard and demo routes.

The dashboard answer is a plain JSON document whose shape ``service.dashboard``
documents (it is assembled from every slice and rendered by the web page as is); the
demo loader answers what it created and what it found already there.
"""

from __future__ import annotations

from pydantic import BaseModel


class DemoOut(BaseModel):
    created: dict[str, int]
    """Records created, by kind (targets, programmes, partners, registrations …)."""
    skipped: dict[str, int]
    """Records of the demo that already existed by name and were left untouched."""
    message: str
