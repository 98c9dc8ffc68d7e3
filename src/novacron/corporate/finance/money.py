"""Tagged money: an amount always travels with its currency, and ledgers use Decimal.

Mixing currencies is refused, never converted silently (``CurrencyMismatch`` names the
field). Valuation math runs in floats on plain numbers; ledger figures (MDF, rebates,
payouts, royalties) are ``Money`` with ``Decimal`` amounts rounded half-even to the
currency's minor unit only when a figure is booked (``Money.booked``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from novacron.core.errors import Invalid

MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}
"""ISO 4217 minor units that are not 2."""


def loc_of(field: str) -> list[str | int]:
    """``"peers.2.currency"`` as the loc ``["peers", 2, "currency"]`` (indices as ints,
    like pydantic's), for code that names fields by dotted path."""
    return [int(part) if part.isdigit() else part for part in field.split(".")]


class CurrencyMismatch(Invalid):
    """Two figures in different currencies met in one calculation."""


def check_currency(code: str, field: str = "currency") -> str:
    """An ISO 4217-shaped code (three upper-case letters), or ``Invalid`` naming the field."""
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        raise Invalid(
            f"{field}: {code!r} is not a currency code (three letters, e.g. USD)",
            errors=[{"loc": loc_of(field), "msg": "not an ISO 4217 currency code"}],
        )
    return code


def same_currency(tagged: Iterable[tuple[str, str]]) -> str:
    """The one currency of ``(field, currency)`` pairs; ``CurrencyMismatch`` naming the
    first field that differs from the first one."""
    first: tuple[str, str] | None = None
    for field, code in tagged:
        check_currency(code, field)
        if first is None:
            first = (field, code)
        elif code != first[1]:
            raise CurrencyMismatch(
                f"{field} is in {code} but {first[0]} is in {first[1]}: "
                "convert to one currency first",
                errors=[{"loc": loc_of(field), "msg": f"currency {code} != {first[1]}"}],
            )
    if first is None:
        raise Invalid("no figures given", errors=[{"loc": ["currency"], "msg": "empty"}])
    return first[1]


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """A Decimal from a str/int/Decimal (floats go through ``str`` so 0.1 stays 0.1)."""
    try:
        if isinstance(value, float):
            value = repr(value)
        result = Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise Invalid(
            f"{field}: {value!r} is not a number",
            errors=[{"loc": loc_of(field), "msg": "not a number"}],
        ) from None
    if not result.is_finite():
        loc = loc_of(field)
        raise Invalid(f"{field} must be finite", errors=[{"loc": loc, "msg": "not finite"}])
    return result


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        return cls(to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def exponent(self) -> Decimal:
        return Decimal(1).scaleb(-MINOR_UNITS.get(self.currency, 2))

    def booked(self) -> Money:
        """Rounded half-even (banker's rounding) to the currency's minor unit."""
        return Money(self.amount.quantize(self.exponent, rounding=ROUND_HALF_EVEN), self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency}: convert first",
                errors=[{"loc": ["currency"], "msg": f"{other.currency} != {self.currency}"}],
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float | Money):
            raise TypeError("multiply Money by a Decimal or an int (floats lose cents)")
        return Money(self.amount * Decimal(factor), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.booked().amount:,} {self.currency}"


def booked(amount: Decimal | None, currency: str) -> Decimal:
    """``amount`` rounded half-even to the currency's minor unit, as a ledger stores and
    shows it (0 for None)."""
    return Money(amount if amount is not None else Decimal(0), currency).booked().amount


def plain_decimal(value: Decimal) -> str:
    """``Decimal('1250000.5000')`` → ``"1250000.5"``: how the API writes an amount (a
    string, so JSON loses no cent; no exponent, no storage padding)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def percent(part: Decimal | float, whole: Decimal | float, places: int = 2) -> float | None:
    """``part`` as a percentage of ``whole``, computed in Decimal and rounded to ``places``
    (None when ``whole`` is zero: no plan, no rate)."""
    if not whole:
        return None
    return round(float(to_decimal(part) / to_decimal(whole) * 100), places)


def total(items: Iterable[Money], currency: str) -> Money:
    """The sum of ``items`` (all in ``currency``; ``CurrencyMismatch`` otherwise)."""
    result = Money.zero(currency)
    for item in items:
        result = result + item
    return result
