"""Named drivers of a DCF, and what moves them: sensitivity tables and scenarios.

A driver is one number of :class:`~novacron.corporate.finance.dcf.DCFInputs` that a
sensitivity table, a scenario or a Monte Carlo can set (:data:`DRIVERS`). For the per-year
paths ("ebitda_margin", "revenue_growth") the driver is the first forecast year's figure and
setting it shifts every year by the same amount, so the path keeps its shape. Unknown
drivers, and drivers the model lacks (``terminal_growth`` on an exit-multiple model), are
refused with ``Invalid`` naming them.

Sensitivity cells where the model is inconsistent (e.g. WACC <= g) hold None and the
reason, so one bad corner does not sink the table.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from novacron.core.errors import Invalid

from .dcf import METRICS, DCFInputs, DCFResult, dcf, shifted
from .terminal import ExitMultiple, GordonGrowth


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


def driver(inputs: DCFInputs, name: str, loc: Sequence[str | int] = ("drivers",)) -> Driver:
    """The driver called ``name``, or ``Invalid`` naming it (unknown, or not in this model)."""
    found = DRIVERS.get(name)
    if found is None:
        raise Invalid(
            f"unknown driver {name!r} (one of {', '.join(DRIVERS)})",
            errors=[{"loc": [*loc, name], "msg": f"unknown driver; one of {', '.join(DRIVERS)}"}],
        )
    if found.needs is not None and not isinstance(inputs.terminal, found.needs):
        method = "Gordon growth" if found.needs is GordonGrowth else "exit multiple"
        raise Invalid(
            f"driver {name!r} needs a {method} terminal value",
            errors=[{"loc": [*loc, name], "msg": f"the model has no {method} terminal value"}],
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


# ------------------------------------------------------------------ sensitivity


@dataclass(frozen=True, slots=True)
class SensitivityTable:
    """``cells[i][j]`` = metric at ``row_values[i]`` and ``col_values[j]``; None where the
    model is invalid, with the reason in ``reasons[i][j]``."""

    currency: str
    metric: str
    row_driver: str
    row_values: tuple[float, ...]
    col_driver: str
    col_values: tuple[float, ...]
    cells: tuple[tuple[float | None, ...], ...]
    reasons: tuple[tuple[str | None, ...], ...]
    base_value: float
    """The metric of the unmoved inputs."""


def _values(axis: str, spec: tuple[str, Sequence[float]]) -> tuple[str, tuple[float, ...]]:
    if not (isinstance(spec, tuple | list) and len(spec) == 2):
        raise Invalid(
            f"{axis}: a (driver, values) pair", errors=[{"loc": [axis], "msg": "(driver, values)"}]
        )
    name, values = spec
    if not values:
        raise Invalid(f"{axis}: no values", errors=[{"loc": [axis, "values"], "msg": "empty"}])
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise Invalid(
                f"{axis}: value {v!r} is not a finite number",
                errors=[{"loc": [axis, "values", i], "msg": "not a finite number"}],
            )
    return str(name), tuple(float(v) for v in values)


def sensitivity(
    inputs: DCFInputs,
    row: tuple[str, Sequence[float]],
    col: tuple[str, Sequence[float]],
    metric: str = "value_per_share",
) -> SensitivityTable:
    """A two-way table of ``metric`` over two drivers (a DCF per cell)."""
    row_name, row_values = _values("row", row)
    col_name, col_values = _values("col", col)
    driver(inputs, row_name, ("row",))
    driver(inputs, col_name, ("col",))
    if row_name == col_name:
        raise Invalid(
            f"row and col both move {row_name!r}",
            errors=[{"loc": ["col"], "msg": "choose a different driver from the row"}],
        )
    if metric not in METRICS:
        raise Invalid(
            f"metric: unknown metric {metric!r} (one of {', '.join(METRICS)})",
            errors=[{"loc": ["metric"], "msg": f"one of {', '.join(METRICS)}"}],
        )
    base = dcf(inputs).metric(metric)
    cells: list[tuple[float | None, ...]] = []
    reasons: list[tuple[str | None, ...]] = []
    for r in row_values:
        line = [_cell(inputs, {row_name: r, col_name: c}, metric) for c in col_values]
        cells.append(tuple(v for v, _ in line))
        reasons.append(tuple(why for _, why in line))
    return SensitivityTable(
        inputs.currency, metric, row_name, row_values, col_name, col_values,
        tuple(cells), tuple(reasons), base,
    )  # fmt: skip


def _cell(
    inputs: DCFInputs, moves: dict[str, float], metric: str
) -> tuple[float | None, str | None]:
    try:
        return dcf(with_drivers(inputs, **moves)).metric(metric), None
    except Invalid as exc:
        return None, exc.detail


# ------------------------------------------------------------------ scenarios


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    name: str
    drivers: tuple[tuple[str, float], ...]
    probability: float | None
    result: DCFResult

    @property
    def value_per_share(self) -> float:
        return self.result.value_per_share

    @property
    def enterprise_value(self) -> float:
        return self.result.enterprise_value

    @property
    def equity_value(self) -> float:
        return self.result.equity_value


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    currency: str
    scenarios: tuple[ScenarioOutcome, ...]
    weighted: dict[str, float] | None
    """Probability-weighted metrics (``value_per_share``, ``enterprise_value``,
    ``equity_value``) when probabilities were given."""

    def get(self, name: str) -> ScenarioOutcome:
        for outcome in self.scenarios:
            if outcome.name == name:
                return outcome
        raise KeyError(name)


def scenarios(
    inputs: DCFInputs,
    cases: Mapping[str, Mapping[str, float]],
    probabilities: Mapping[str, float] | None = None,
) -> ScenarioResult:
    """A DCF per named scenario (driver overrides); "base" is required.

    Scenario errors carry the scenario in their path: ``["scenarios", "bear", "terminal",
    "growth"]``. Probabilities, if given, cover every scenario, are >= 0 and sum to 1.
    """
    if "base" not in cases:
        raise Invalid(
            "scenarios: a 'base' scenario is required",
            errors=[{"loc": ["scenarios", "base"], "msg": "required"}],
        )
    probs = _check_probabilities(cases, probabilities)
    outcomes = []
    for name, overrides in cases.items():
        try:
            result = dcf(with_drivers(inputs, **overrides))
        except Invalid as exc:
            errors = [{**e, "loc": ["scenarios", name, *e["loc"]]} for e in exc.errors]
            raise Invalid(f"scenario {name!r}: {exc.detail}", errors=errors) from None
        pairs = tuple((k, float(v)) for k, v in overrides.items())
        outcomes.append(ScenarioOutcome(name, pairs, probs.get(name) if probs else None, result))
    weighted = None
    if probs:
        weighted = {m: sum(o.result.metric(m) * probs[o.name] for o in outcomes) for m in METRICS}
    return ScenarioResult(inputs.currency, tuple(outcomes), weighted)


def _check_probabilities(
    cases: Mapping[str, object], probabilities: Mapping[str, float] | None
) -> dict[str, float] | None:
    if probabilities is None:
        return None
    errors = [
        {"loc": ["probabilities", name], "msg": "missing"}
        for name in cases
        if name not in probabilities
    ]
    errors += [
        {"loc": ["probabilities", name], "msg": "no such scenario"}
        for name in probabilities
        if name not in cases
    ]
    for name, p in probabilities.items():
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            errors.append({"loc": ["probabilities", name], "msg": "a probability in [0, 1]"})
    if not errors and abs(sum(probabilities.values()) - 1.0) > 1e-9:
        total = sum(probabilities.values())
        errors.append({"loc": ["probabilities"], "msg": f"probabilities sum to {total}, not 1"})
    if errors:
        first = errors[0]
        raise Invalid(f"{'.'.join(map(str, first['loc']))}: {first['msg']}", errors=errors)
    return {k: float(v) for k, v in probabilities.items()}
