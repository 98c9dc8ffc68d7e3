"""Named drivers of a DCF: the numbers a sensitivity table, a scenario or a Monte Carlo
may move, each with how to read and set it on :class:`~.dcf_inputs.DCFInputs`.

For the per-year paths ("ebitda_margin", "revenue_growth") the driver is the first
forecast year's figure and setting it shifts every year by the same amount, so the path
keeps its shape. Unknown drivers, and drivers the model lacks (``terminal_growth`` on an
exit-multiple model), are refused with ``Invalid`` naming them. One registry serves the
sensitivity tables, the scenarios and the Monte Carlo (and the Excel export), so a driver
means the same thing in each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from novacron.core.errors import Invalid

from .dcf import shifted
from .dcf_inputs import DCFInputs
from .terminal import ExitMultiple, GordonGrowth

__all__ = ["DRIVERS", "Driver", "driver", "driver_value", "with_drivers"]


@dataclass(frozen=True, slots=True)
class Driver:
    name: str
    doc: str
    get: Callable[[DCFInputs], float]
    set: Callable[[DCFInputs, float], DCFInputs]
    needs: type | None = None
    """The terminal method the driver belongs to, if any."""


def _field(name: str) -> tuple[Callable[[DCFInputs], float], Callable[[DCFInputs, float], Any]]:
    return (
        lambda i: float(getattr(i, name)),
        lambda i, v: dataclasses.replace(i, **{name: v}),
    )


def _set_margin(inputs: DCFInputs, value: float) -> DCFInputs:
    if isinstance(inputs.ebitda_margin, tuple):
        return dataclasses.replace(inputs, ebitda_margin=tuple(shifted(inputs.margins(), value)))
    return dataclasses.replace(inputs, ebitda_margin=value)


def _set_growth(inputs: DCFInputs, value: float) -> DCFInputs:
    return dataclasses.replace(inputs, revenue_growth=tuple(shifted(inputs.revenue_growth, value)))


DRIVERS: dict[str, Driver] = {
    d.name: d
    for d in (
        Driver("wacc", "discount rate", *_field("wacc")),
        Driver(
            "terminal_growth",
            "Gordon perpetual growth",
            lambda i: float(i.terminal.growth),  # type: ignore[union-attr]
            lambda i, v: dataclasses.replace(i, terminal=GordonGrowth(v)),
            GordonGrowth,
        ),
        Driver(
            "exit_multiple",
            "terminal EV/EBITDA",
            lambda i: float(i.terminal.ev_ebitda),  # type: ignore[union-attr]
            lambda i, v: dataclasses.replace(i, terminal=ExitMultiple(v)),
            ExitMultiple,
        ),
        Driver("ebitda_margin", "year-1 margin, shifts all years", lambda i: i.margins()[0],
               _set_margin),
        Driver("revenue_growth", "year-1 growth, shifts all years",
               lambda i: i.revenue_growth[0], _set_growth),
        Driver("tax_rate", "tax on EBIT", *_field("tax_rate")),
        Driver("da_pct_revenue", "D&A as % of revenue", *_field("da_pct_revenue")),
        Driver("capex_pct_revenue", "capex as % of revenue", *_field("capex_pct_revenue")),
        Driver("nwc_pct_revenue", "NWC as % of revenue", *_field("nwc_pct_revenue")),
        Driver("net_debt", "debt minus cash", *_field("net_debt")),
    )
}  # fmt: skip


def driver(inputs: DCFInputs, name: str, loc: Sequence[str | int] | None = None) -> Driver:
    """The driver called ``name``, or ``Invalid`` (unknown, or not in this model) at
    ``loc``: the field that holds the name, by default ``["drivers", name]``."""
    where = [*(("drivers", name) if loc is None else loc)]
    found = DRIVERS.get(name) if isinstance(name, str) else None
    if found is None:
        raise Invalid(
            f"unknown driver {name!r} (one of {', '.join(DRIVERS)})",
            errors=[{"loc": where, "msg": f"unknown driver; one of {', '.join(DRIVERS)}"}],
        )
    if found.needs is not None and not isinstance(inputs.terminal, found.needs):
        method = "Gordon growth" if found.needs is GordonGrowth else "exit multiple"
        raise Invalid(
            f"driver {name!r} needs a {method} terminal value",
            errors=[{"loc": where, "msg": f"the model has no {method} terminal value"}],
        )
    return found


def driver_value(inputs: DCFInputs, name: str) -> float:
    """The current value of a driver."""
    return driver(inputs, name).get(inputs)


def with_drivers(inputs: DCFInputs, **overrides: float) -> DCFInputs:
    """``inputs`` with the named drivers set (not validated: :func:`dcf` does that)."""
    for name, value in overrides.items():
        found = driver(inputs, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(
                f"driver {name}: {value!r} is not a number",
                errors=[{"loc": ["drivers", name], "msg": "not a number"}],
            )
        inputs = found.set(inputs, float(value))
    return inputs
