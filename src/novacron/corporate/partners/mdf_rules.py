"""Market development funds (pure): the request's state machine, amount rules and the
ledger's balances.

    requested ──approve──▶ approved ──claim──▶ claimed ──pay──▶ paid
        └──────reject──▶ rejected

Ledger entries (all Decimal, booked half-even to the currency's minor unit):

    mdf_approved   +approved amount (a commitment)
    mdf_released   approved − claimed, when a claim comes in under the approval
    mdf_claimed    +claimed amount (proof received)
    mdf_paid       +paid amount
    rebate_accrued a rebate booked as a payout liability (see ``rebates``)

Balances: ``approved`` = approved − released; ``claimed``; ``paid``;
``remaining`` = approved − paid (committed funds not yet paid out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from novacron.core.errors import Invalid, InvalidState
from novacron.corporate.finance.money import Money, booked, same_currency

STATES: tuple[str, ...] = ("requested", "approved", "rejected", "claimed", "paid")
TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {"requested": "approved"},
    "reject": {"requested": "rejected"},
    "claim": {"approved": "claimed"},
    "pay": {"claimed": "paid"},
}
ENTRY_KINDS: tuple[str, ...] = (
    "mdf_approved",
    "mdf_released",
    "mdf_claimed",
    "mdf_paid",
    "rebate_accrued",
)


def next_state(current: str, action: str, request_id: str = "") -> str:
    """The state after ``action``, or ``InvalidState`` naming the current state."""
    target = TRANSITIONS[action].get(current)
    if target is None:
        allowed = ", ".join(sorted(TRANSITIONS[action]))
        what = f"MDF request {request_id}" if request_id else "MDF request"
        raise InvalidState(
            f"cannot {action} {what}: it is {current} (only when {allowed})",
            errors=[{"loc": ["state"], "msg": f"current state: {current}"}],
        )
    return target


def _not_above(amount: Money, cap: Money, field: str, cap_name: str) -> None:
    same_currency([(cap_name, cap.currency), (field, amount.currency)])
    if amount.amount <= 0:
        raise Invalid(
            f"{field} must be positive",
            errors=[{"loc": [field], "msg": "must be greater than 0"}],
        )
    if amount.amount > cap.amount:
        raise Invalid(
            f"{field} {amount} exceeds the {cap_name.replace('_', ' ')} {cap}",
            errors=[{"loc": [field], "msg": f"must not exceed {cap.booked().amount}"}],
        )


def check_approval(requested: Money, approved: Money) -> None:
    _not_above(approved, requested, "approved_amount", "requested_amount")


def check_claim(approved: Money, claimed: Money) -> None:
    _not_above(claimed, approved, "claimed_amount", "approved_amount")


def check_budget(budget: Money, committed: Money, approved: Money) -> None:
    """Approving ``approved`` must keep the programme's commitments within ``budget``."""
    same_currency([("budget", budget.currency), ("approved_amount", approved.currency)])
    left = budget - committed
    if approved.amount > left.amount:
        raise Invalid(
            f"approved_amount {approved} exceeds the programme's remaining MDF budget {left}",
            errors=[{"loc": ["approved_amount"], "msg": f"budget left: {left.booked().amount}"}],
        )


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    approved: Decimal
    claimed: Decimal
    paid: Decimal
    remaining: Decimal
    rebates_accrued: Decimal


def balances(entries: Iterable[tuple[str, Money]]) -> list[Balance]:
    """Balances per currency from ``(kind, amount)`` ledger entries (never summed across
    currencies)."""
    sums: dict[str, dict[str, Decimal]] = {}
    for kind, money in entries:
        per = sums.setdefault(money.currency, dict.fromkeys(ENTRY_KINDS, Decimal(0)))
        per[kind] += money.amount
    out: list[Balance] = []
    for currency, per in sorted(sums.items()):
        approved = per["mdf_approved"] - per["mdf_released"]
        out.append(
            Balance(
                currency,
                booked(approved, currency),
                booked(per["mdf_claimed"], currency),
                booked(per["mdf_paid"], currency),
                booked(approved - per["mdf_paid"], currency),
                booked(per["rebate_accrued"], currency),
            )
        )
    return out
