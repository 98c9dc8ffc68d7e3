"""Object ids: a short type prefix and random hex, e.g. ``vm-3f9c2a…``."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"
