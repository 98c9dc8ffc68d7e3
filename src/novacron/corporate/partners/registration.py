"""Deal-registration rules (pure): customer-name normalisation, duplicate and conflict
detection, the status machine and expiry.

Rules, in one place:

* **Duplicate**: the same partner already has an *open* (pending or approved)
  registration for the same normalised customer and product → refused (409).
* **Conflict**: *another* partner has an open registration for the same normalised
  customer and product → the new one is accepted as pending, flagged ``conflict``
  with the other's id, for review.
* **First approved wins**: approving a registration rejects every other partner's
  *pending* registration for the same customer and product; approving one while
  another partner's registration for it is already approved is refused.
* **Expiry**: an open registration whose ``expires_at`` has passed is ``expired``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from novacron.core.errors import InvalidState

STATUSES: tuple[str, ...] = ("pending", "approved", "rejected", "won", "lost", "expired")
OPEN: frozenset[str] = frozenset({"pending", "approved"})
DEFAULT_VALIDITY = timedelta(days=90)

TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {"pending": "approved"},
    "reject": {"pending": "rejected", "approved": "rejected"},
    "won": {"approved": "won"},
    "lost": {"pending": "lost", "approved": "lost"},
    "expire": {"pending": "expired", "approved": "expired"},
    "extend": {"pending": "pending", "approved": "approved"},
}
"""action → {from status: to status}; anything else is an illegal transition."""

LEGAL_SUFFIXES: frozenset[str] = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited",
        "llc", "llp", "lp", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa",
        "bv", "nv", "oy", "ab", "as", "asa", "aps", "kk", "pty", "pte", "sl", "se", "oyj",
    }
)  # fmt: skip
"""Trailing words that name a legal form, not the customer ("Acme GmbH" is "acme")."""


def normalise_customer(name: str) -> str:
    """Lower case, accents and punctuation removed, legal suffixes dropped from the end,
    whitespace collapsed: ``"ACME, Inc."`` and ``"Acme Inc"`` both become ``"acme"``."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ")
    # "S.A." / "G.m.b.H." → "sa" / "gmbh": drop dots inside words before splitting.
    text = re.sub(r"(?<=\w)\.(?=\w)", "", text)
    words = re.sub(r"[^\w\s]", " ", text).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


def normalise_product(product: str) -> str:
    """Case and spacing do not make a different product."""
    return " ".join(re.sub(r"[^\w\s.-]", " ", product.lower()).split())


@dataclass(frozen=True, slots=True)
class OpenRegistration:
    """What the rules need to know about an existing registration."""

    id: str
    partner_id: str
    customer_key: str
    product_key: str
    status: str


@dataclass(frozen=True, slots=True)
class Screening:
    duplicate_of: str | None
    conflicts_with: list[str]


def screen(
    partner_id: str, customer_key: str, product_key: str, existing: Iterable[OpenRegistration]
) -> Screening:
    """Duplicate (same partner) and conflicts (other partners) among open registrations
    for the same customer and product."""
    duplicate: str | None = None
    conflicts: list[str] = []
    for reg in existing:
        if reg.status not in OPEN:
            continue
        if (reg.customer_key, reg.product_key) != (customer_key, product_key):
            continue
        if reg.partner_id == partner_id:
            duplicate = duplicate or reg.id
        else:
            conflicts.append(reg.id)
    return Screening(duplicate, conflicts)


def next_status(current: str, action: str, reg_id: str = "") -> str:
    """The status after ``action``, or ``InvalidState`` naming the current status."""
    target = TRANSITIONS[action].get(current)
    if target is None:
        allowed = ", ".join(sorted(TRANSITIONS[action])) or "none"
        what = f"registration {reg_id}" if reg_id else "registration"
        raise InvalidState(
            f"cannot {action} {what}: it is {current} (allowed from: {allowed})",
            errors=[{"loc": ["status"], "msg": f"current state: {current}"}],
        )
    return target


@dataclass(frozen=True, slots=True)
class ApprovalOutcome:
    reject: list[str]
    """Other partners' pending registrations to reject (first approved wins)."""


def approval(reg: OpenRegistration, rivals: Iterable[OpenRegistration]) -> ApprovalOutcome:
    """First approved wins: refuse when a rival is already approved, else reject the
    pending rivals."""
    reject: list[str] = []
    for rival in rivals:
        if rival.id == reg.id or rival.partner_id == reg.partner_id:
            continue
        if (rival.customer_key, rival.product_key) != (reg.customer_key, reg.product_key):
            continue
        if rival.status == "approved":
            raise InvalidState(
                f"cannot approve {reg.id}: registration {rival.id} of another partner for "
                "the same customer and product was approved first",
                errors=[{"loc": ["status"], "msg": f"conflicts with approved {rival.id}"}],
            )
        if rival.status == "pending":
            reject.append(rival.id)
    return ApprovalOutcome(reject)


def is_expired(status: str, expires_at: datetime, now: datetime) -> bool:
    return status in OPEN and expires_at <= now
