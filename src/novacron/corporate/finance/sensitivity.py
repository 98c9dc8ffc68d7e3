"""What moves a DCF: two-driver sensitivity tables and named scenarios.

The drivers they move are the registry of ``drivers.py`` (re-exported here: ``DRIVERS``,
``driver``, ``driver_value``, ``with_drivers``).

Sensitivity cells where the model is inconsistent (e.g. WACC <= g) hold None and the
reason, so one bad corner does not sink the table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from novacron.core.errors import Invalid

from .dcf import METRICS, DCFInputs, DCFResult, dcf
from .drivers import DRIVERS, Driver, driver, driver_value, with_drivers

__all__ = [
    "DRIVERS",
    "Driver",
    "ScenarioOutcome",
    "ScenarioResult",
    "SensitivityTable",
    "driver",
    "driver_value",
    "scenarios",
    "sensitivity",
    "with_drivers",
]


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
    driver(inputs, row_name, ("row", "driver"))
    driver(inputs, col_name, ("col", "driver"))
    if row_name == col_name:
        raise Invalid(
            f"row and col both move {row_name!r}",
            errors=[{"loc": ["col", "driver"], "msg": "choose a different driver from the row"}],
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
        for key in overrides:  # the error names the override itself: scenarios.bear.beta
            driver(inputs, key, ("scenarios", name, key))
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
