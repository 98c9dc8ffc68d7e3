"""Pure rules of labs, academic and government partnerships: budget utilisation,
programme status by date, and certification checks and flags.

A certification's recorded status is what someone last typed; the flags are what the
dates say today. An "authorized" FedRAMP package whose expiry date has passed is
reported as expired whatever its status field claims, so a dashboard never shows a
lapsed authorisation as green.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from novacron.core.errors import Invalid

LAB_STATUSES = ("proposed", "active", "concluded")
LAB_TRANSITIONS = {"proposed": ("active", "concluded"), "active": ("concluded",), "concluded": ()}
PROJECT_STATUSES = ("planned", "active", "completed", "cancelled")
PROJECT_OUTCOMES = ("prototype", "patent", "product_feature", "none")
ACADEMIC_TYPES = ("research_grant", "fellowship", "internship", "curriculum")
ACADEMIC_OUTPUTS = ("publication", "patent", "hire")
CERT_STATUSES = ("planned", "in_process", "authorized", "expired", "revoked")
EXPIRY_WARNING_DAYS = 90


def utilisation_pct(budget: Decimal, spent: Decimal) -> Decimal | None:
    """Spend as a percentage of budget (two decimals, half-even); None without a budget."""
    if budget <= 0:
        return None
    return (spent * 100 / budget).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def check_lab_transition(current: str, new: str) -> None:
    """Labs move proposed → active → concluded (or straight to concluded); never back."""
    if new != current and new not in LAB_TRANSITIONS[current]:
        raise Invalid(
            f"status: a {current} lab cannot become {new}",
            errors=[{"loc": ["status"], "msg": f"{current} → {new} is not allowed"}],
        )


def period_status(start: date, end: date | None, today: date) -> str:
    """upcoming, active or ended, from the dates alone."""
    if today < start:
        return "upcoming"
    if end is not None and today > end:
        return "ended"
    return "active"


def check_period(start: date, end: date | None, end_field: str = "end_on") -> None:
    if end is not None and end < start:
        raise Invalid(
            f"{end_field}: {end} is before the start {start}",
            errors=[{"loc": [end_field], "msg": f"{end} is before {start}"}],
        )


@dataclass(frozen=True, slots=True)
class CertFlags:
    effective_status: str
    expired: bool
    expiring_soon: bool
    days_to_expiry: int | None


def check_certification(
    status: str, started_on: date | None, authorized_on: date | None, expires_on: date | None
) -> None:
    """Refuse certification records whose dates contradict each other or the status."""

    def bad(field: str, msg: str) -> Invalid:
        return Invalid(f"{field}: {msg}", errors=[{"loc": [field], "msg": msg}])

    if status not in CERT_STATUSES:
        raise bad("status", f"{status!r} is not one of {', '.join(CERT_STATUSES)}")
    if status in ("authorized", "expired") and authorized_on is None:
        raise bad("authorized_on", f"a certification {status} needs the date it was authorized")
    if started_on and authorized_on and authorized_on < started_on:
        raise bad("authorized_on", f"{authorized_on} is before the start {started_on}")
    if authorized_on and expires_on and expires_on <= authorized_on:
        raise bad("expires_on", f"{expires_on} is not after the authorization {authorized_on}")
    if expires_on and not authorized_on:
        raise bad("expires_on", "an expiry date needs an authorized_on date")


def certification_flags(status: str, expires_on: date | None, today: date) -> CertFlags:
    """What the dates say today: an authorized certification past its expiry is expired,
    one expiring within ``EXPIRY_WARNING_DAYS`` is flagged."""
    days = None if expires_on is None else (expires_on - today).days
    if status == "authorized" and days is not None and days < 0:
        return CertFlags("expired", True, False, days)
    expired = status == "expired"
    soon = status == "authorized" and days is not None and days <= EXPIRY_WARNING_DAYS
    return CertFlags(status, expired, soon, days)
