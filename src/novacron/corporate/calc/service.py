"""The one registry from JSON to the finance engine and back: ``evaluate(kind, inputs)``.

Stateless: the API, the CLI (through the API) and the M&A slice's versioned valuation
models (stored as ``(kind, inputs)``) all compute through here, so a number is the same
wherever it is shown. Bad input leaves as ``Invalid`` whose ``errors[*].loc`` starts
with ``"inputs"`` (or is ``["kind"]`` for an unknown kind): pydantic's paths for types
and shapes, the finance engine's own for meaning (sums, ranges, mixed currencies).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from novacron.core.errors import Invalid
from novacron.corporate.calc import runners as r
from novacron.corporate.calc import runners_models as rm
from novacron.corporate.calc import schemas as s
from novacron.corporate.calc import schemas_models as sm


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    description: str
    schema: type[BaseModel]
    run: Callable[[Any], Any]


_KINDS = (
    Kind(
        "npv",
        "Net present value, first flow at t=0 or every flow at period end",
        s.NPVIn,
        r.run_npv,
    ),
    Kind(
        "irr",
        "Every real internal rate of return, flagged when ambiguous",
        s.IRRIn,
        r.run_irr,
    ),
    Kind(
        "xirr",
        "IRR of dated cash flows (Excel XIRR, actual/365)",
        s.XIRRIn,
        r.run_xirr,
    ),
    Kind(
        "mirr",
        "Modified IRR with finance and reinvestment rates",
        s.MIRRIn,
        r.run_mirr,
    ),
    Kind(
        "pmt",
        "Annuity payment (Excel PMT sign convention)",
        s.PMTIn,
        r.run_pmt,
    ),
    Kind(
        "payback",
        "Payback and discounted payback periods",
        s.PaybackIn,
        r.run_payback,
    ),
    Kind(
        "wacc",
        "WACC with a CAPM cost of equity and market-value weights",
        sm.WACCIn,
        rm.run_wacc,
    ),
    Kind(
        "dcf",
        "Discounted cash flow from drivers to value per diluted share",
        sm.DCFIn,
        rm.run_dcf,
    ),
    Kind(
        "sensitivity",
        "A DCF output over a grid of two drivers",
        sm.SensitivityIn,
        rm.run_sensitivity,
    ),
    Kind(
        "scenarios",
        "A DCF under base, bull and bear driver sets",
        sm.ScenariosIn,
        rm.run_scenarios,
    ),
    Kind(
        "monte_carlo",
        "EV percentiles over driver distributions",
        sm.MonteCarloIn,
        rm.run_monte_carlo,
    ),
    Kind(
        "comps",
        "Trading comps: EV/EBITDA, EV/Revenue, P/E with quartiles",
        s.CompsIn,
        r.run_comps,
    ),
    Kind(
        "precedents",
        "Precedent transactions with a control premium",
        s.PrecedentsIn,
        r.run_precedents,
    ),
    Kind(
        "football_field",
        "Valuation ranges by method, sorted, in one currency",
        s.FootballFieldIn,
        r.run_football_field,
    ),
    Kind(
        "synergies",
        "NPV of revenue and cost synergies net of integration costs",
        s.SynergiesIn,
        r.run_synergies,
    ),
    Kind(
        "accretion_dilution",
        "Pro-forma EPS accretion and break-even synergies",
        s.AccretionIn,
        r.run_accretion,
    ),
)
KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}


def kinds() -> list[dict[str, str]]:
    """Every kind with its one-line description, in a stable order."""
    return [{"kind": k.name, "description": k.description} for k in _KINDS]


def evaluate(kind: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The result of ``kind`` on ``inputs`` as JSON-ready data, with ``"kind"`` first."""
    spec = KINDS.get(kind)
    if spec is None:
        known = ", ".join(KINDS)
        raise Invalid(
            f"unknown calculation kind {kind!r}; known kinds: {known}",
            errors=[{"loc": ["kind"], "msg": f"unknown kind; known kinds: {known}"}],
        )
    if not isinstance(inputs, Mapping):
        raise Invalid(
            "inputs must be a JSON object", errors=[{"loc": ["inputs"], "msg": "not an object"}]
        )
    model = _validated(spec.schema, inputs)
    try:
        result = spec.run(model)
    except Invalid as exc:
        raise _under_inputs(exc) from None
    except ArithmeticError as exc:  # a float overflow the engine did not attribute
        raise _overflow(f"{type(exc).__name__}: {exc}") from None
    bad = _non_finite(result)
    if bad is not None:
        raise _overflow(f"the result's {bad} overflows a float")
    data = jsonable(result)
    if not isinstance(data, dict):
        data = {"value": data}
    return {"kind": kind, **data}


def _overflow(why: str) -> Invalid:
    """The last line of defence: the engine names the field of every overflow it can
    foresee; anything left is still bad input (figures near 1e308), so a 422, not a 500."""
    msg = f"the figures are too large or too small to compute ({why})"
    return Invalid(f"inputs: {msg}", errors=[{"loc": ["inputs"], "msg": msg}])


def _non_finite(value: Any, path: str = "") -> str | None:
    """The path of the first NaN or infinity in a result (which JSON cannot carry and
    ``jsonable`` would otherwise turn into a silent null), or None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items: Any = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    elif isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    elif isinstance(value, float | np.floating):
        return None if math.isfinite(value) else (path or "value")
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{path}[{key}]" if isinstance(key, int) else _join(path, key))
        if found is not None:
            return found
    return None


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _validated(schema: type[BaseModel], inputs: Mapping[str, Any]) -> BaseModel:
    try:
        return schema.model_validate(dict(inputs))
    except ValidationError as exc:
        errors = [
            {"loc": ["inputs", *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        detail = "; ".join(_path(e["loc"]) + ": " + str(e["msg"]) for e in errors[:5])
        raise Invalid(detail, errors=errors) from None


def _path(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _under_inputs(exc: Invalid) -> Invalid:
    """The same error (same class: ``CurrencyMismatch`` stays one) with every ``loc``
    under ``"inputs"`` and list indices as integers, like pydantic's."""
    errors = []
    for err in exc.errors or [{"loc": [], "msg": exc.detail}]:
        loc = [int(p) if isinstance(p, str) and p.isdigit() else p for p in err.get("loc", [])]
        errors.append({**err, "loc": ["inputs", *loc]})
    return type(exc)(exc.detail, errors=errors)


def jsonable(value: Any) -> Any:
    """Dataclasses, tuples, dates and numpy values as plain JSON data; NaN/inf → None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | str | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist())
    return str(value)
