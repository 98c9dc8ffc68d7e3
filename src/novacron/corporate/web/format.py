"""How the corporate pages write numbers: money with its currency, percentages, multiples.

Pure functions (no I/O), registered as Jinja filters on the shared UI environment by
``register`` (``corp_money``, ``corp_pct``, ``corp_num``), so templates never format a
figure themselves and a value reads the same on every page.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import jinja2

DASH = "—"
_SCALES = (
    (Decimal("1e12"), "T"),
    (Decimal("1e9"), "B"),
    (Decimal("1e6"), "M"),
    (Decimal("1e3"), "K"),
)


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a Decimal, number or numeric string; None for nothing or junk."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def rounded(number: Decimal, places: int) -> Decimal:
    """Half up, as people (and Excel) round for display; Python's default is half even."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def compact(value: Any, places: int = 1) -> str:
    """``1250000`` → ``1.3M``; small numbers keep two decimals at most."""
    number = to_decimal(value)
    if number is None:
        return DASH
    for scale, suffix in _SCALES:
        if abs(number) >= scale:
            return f"{rounded(number / scale, places):,.{places}f}{suffix}"
    return f"{rounded(number, 2):,.2f}".removesuffix(".00")


def money(value: Any, currency: str | None = None, *, short: bool = False) -> str:
    """``EUR 120,000,000`` (``short``: ``EUR 120.0M``); cents only when there are some."""
    number = to_decimal(value)
    if number is None:
        return DASH
    text = compact(number) if short else f"{rounded(number, 2):,.2f}".removesuffix(".00")
    return f"{currency} {text}" if currency else text


def pct(value: Any, places: int = 1, *, ratio: bool = False) -> str:
    """``82.5`` → ``82.5%``; with ``ratio`` the value is a fraction (``0.825`` → ``82.5%``)."""
    number = to_decimal(value)
    if number is None:
        return DASH
    if ratio:
        number *= 100
    return f"{rounded(number, places):,.{places}f}%"


def num(value: Any, places: int = 2) -> str:
    """A plain number with thousands separators and at most ``places`` decimals."""
    number = to_decimal(value)
    if number is None:
        return DASH
    text = f"{rounded(number, places):,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def label(key: str | None) -> str:
    """``due_diligence`` → ``Due diligence``; ``ai_ml`` → ``AI/ML``."""
    if not key:
        return DASH
    special = {"ai_ml": "AI/ML", "hr": "HR", "mdf": "MDF", "jv": "JV", "rag": "RAG"}
    if key in special:
        return special[key]
    text = key.replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


# Badge tone (the UI's ``tone-*`` classes) of each value, per kind. Unlisted: neutral.
TONES: dict[str, dict[str, str]] = {
    "stage": {
        "screening": "idle",
        "preliminary": "info",
        "due_diligence": "busy",
        "negotiation": "warn",
        "closed": "ok",
        "integration": "ok",
        "dropped": "gone",
    },
    "rag": {"green": "ok", "amber": "warn", "red": "bad", "grey": "idle"},
    "tier": {"platinum": "busy", "gold": "warn", "silver": "info", "bronze": "idle"},
    "band": {
        "healthy": "ok",
        "strong": "ok",
        "good": "ok",
        "watch": "warn",
        "fair": "warn",
        "at_risk": "bad",
        "at risk": "bad",
        "poor": "bad",
        "critical": "bad",
    },
    "rating": {"low": "ok", "medium": "warn", "high": "bad", "critical": "bad"},
    "status": {
        "active": "ok",
        "won": "ok",
        "approved": "ok",
        "paid": "ok",
        "authorized": "ok",
        "hit": "ok",
        "done": "ok",
        "retained": "ok",
        "resolved": "ok",
        "closed": "ok",
        "pending": "idle",
        "requested": "idle",
        "not_started": "idle",
        "forming": "info",
        "in_progress": "busy",
        "claimed": "busy",
        "in_process": "busy",
        "open": "warn",
        "at_risk": "warn",
        "expiring": "warn",
        "suspended": "warn",
        "blocked": "bad",
        "lost": "bad",
        "rejected": "bad",
        "expired": "bad",
        "missed": "bad",
        "left": "bad",
        "churned": "bad",
        "terminated": "gone",
        "dissolved": "gone",
        "revoked": "bad",
    },
    "alert": {"ok": "ok", "warn": "warn", "alert": "bad", "breach": "bad", "none": "idle"},
}


def tone(value: str | None, kind: str = "status") -> str:
    return TONES.get(kind, {}).get(str(value), "idle")


def register(env: jinja2.Environment) -> None:
    """Add the corporate filters to the shared template environment (idempotent)."""
    env.filters.update(
        corp_money=money,
        corp_pct=pct,
        corp_num=num,
        corp_compact=compact,
        corp_label=label,
        corp_tone=tone,
    )
