"""Joint-venture arithmetic (pure): the equity split, distributions to the cent, returns.

Equity percentages are Decimals that must add up to exactly 100 (no tolerance: a cap
table that sums to 99.99 is a typo, not a rounding error). A distribution is booked to
the currency's minor unit half-even per party; the cents lost or gained by rounding
each share are then handed out one at a time (largest-remainder method) so the shares
always add up to the amount distributed, and the same inputs always give the same split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from novacron.core.errors import Invalid
from novacron.corporate.finance.money import Money

HUNDRED = Decimal(100)
PCT_PLACES = Decimal("0.0001")
"""Equity percentages are stored with four decimals (``Numeric(20, 4)``)."""
RETURN_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Share:
    """One party's cut of an amount."""

    party: str
    equity_pct: Decimal
    amount: Decimal


def _party_error(index: int, field: str, msg: str) -> Invalid:
    return Invalid(
        f"parties[{index}].{field}: {msg}", errors=[{"loc": ["parties", index, field], "msg": msg}]
    )


def validate_parties(parties: Sequence[tuple[str, Decimal]]) -> None:
    """Refuse a cap table that is not 2+ distinct parties with positive shares summing to 100.

    Each problem is reported with the field it comes from (``parties[1].equity_pct``,
    or ``parties`` itself with the actual sum)."""
    if len(parties) < 2:
        raise Invalid(
            "a joint venture needs at least two parties",
            errors=[{"loc": ["parties"], "msg": f"{len(parties)} party given, need 2 or more"}],
        )
    seen: set[str] = set()
    for index, (name, pct) in enumerate(parties):
        key = name.strip().casefold()
        if not key:
            raise _party_error(index, "name", "empty party name")
        if key in seen:
            raise _party_error(index, "name", f"party {name!r} appears twice")
        seen.add(key)
        if pct <= 0 or pct > HUNDRED:
            raise _party_error(index, "equity_pct", f"{pct} is not in (0, 100]")
        if pct != pct.quantize(PCT_PLACES):
            raise _party_error(index, "equity_pct", f"{pct} has more than 4 decimals")
    total = sum((pct for _, pct in parties), Decimal(0))
    if total != HUNDRED:
        raise Invalid(
            f"parties: equity adds up to {total}%, not 100%",
            errors=[{"loc": ["parties"], "msg": f"equity sums to {total}, must be exactly 100"}],
        )


def split(amount: Decimal, currency: str, parties: Sequence[tuple[str, Decimal]]) -> list[Share]:
    """``amount`` divided by equity, each share booked half-even, summing exactly.

    The amount itself is booked first. Rounding each share can leave the total a few
    minor units off (never more than one per party); the difference is settled one unit
    at a time: added to the shares rounded down the most (or taken from the shares
    rounded up the most), ties to the larger equity, then to the party listed first."""
    unit = Money(Decimal(0), currency).exponent
    booked = amount.quantize(unit, rounding=ROUND_HALF_EVEN)
    raw = [booked * pct / HUNDRED for _, pct in parties]
    shares = [value.quantize(unit, rounding=ROUND_HALF_EVEN) for value in raw]
    left = int((booked - sum(shares, Decimal(0))) / unit)
    if left:
        step = unit if left > 0 else -unit
        # Most under-rounded first when adding, most over-rounded first when taking.
        sign = 1 if left > 0 else -1
        order = sorted(
            range(len(parties)),
            key=lambda i: (-sign * (raw[i] - shares[i]), -parties[i][1], i),
        )
        for i in order[: abs(left)]:
            shares[i] += step
    return [Share(name, pct, share) for (name, pct), share in zip(parties, shares, strict=True)]


def simple_return(distributions: Decimal, invested: Decimal) -> Decimal | None:
    """Cash back per unit invested (0.25 = a quarter of the money back); None with
    nothing invested, since a ratio over zero says nothing."""
    if invested <= 0:
        return None
    return (distributions / invested).quantize(RETURN_PLACES, rounding=ROUND_HALF_EVEN)
