"""What the target page draws from its valuation versions (pure: no database, no HTTP).

For the latest DCF version:

- a **football field**: the DCF's range (WACC ±1 pt × terminal growth ±0.5 pt, or exit
  multiple ±1×) beside the per-share ranges of the latest comps and precedents versions,
  in the DCF's currency; versions in another currency are left out and said so. A stored
  ``football_field`` version, when it is the newest of them all, is shown as it is.
- a **sensitivity grid**: value per share over WACC × terminal growth (5 × 5 around the
  base case), or WACC × exit multiple for an exit-multiple model.

Everything is computed through ``calc.evaluate`` so a number here is the number the API
and the Excel export give.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from novacron.core.errors import Invalid
from novacron.corporate.calc.service import evaluate

WACC_STEP = 0.01
GROWTH_STEP = 0.005
MULTIPLE_STEP = 1.0
GRID = (-2, -1, 0, 1, 2)
RANGE = (-1, 0, 1)
MULTIPLES = {"ev_ebitda": "EV/EBITDA", "ev_revenue": "EV/Revenue", "pe": "P/E"}


@dataclass
class Versions:
    """The latest version of each kind, as ``{"version", "inputs", "result"}`` dicts."""

    latest: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, versions: Iterable[Mapping[str, Any]]) -> Versions:
        latest: dict[str, Mapping[str, Any]] = {}
        for v in versions:
            kind = str(v["kind"])
            if kind not in latest or v["version"] > latest[kind]["version"]:
                latest[kind] = v
        return cls(latest)

    def get(self, kind: str) -> Mapping[str, Any] | None:
        return self.latest.get(kind)


def _axis(base: float, step: float, offsets: Iterable[int]) -> list[float]:
    return [round(base + k * step, 6) for k in offsets]


def _terminal_axis(inputs: Mapping[str, Any], offsets: Iterable[int]) -> dict[str, Any]:
    terminal = inputs["terminal"]
    if terminal.get("method") == "exit_multiple":
        return {
            "driver": "exit_multiple",
            "values": _axis(float(terminal["ev_ebitda"]), MULTIPLE_STEP, offsets),
        }
    return {
        "driver": "terminal_growth",
        "values": _axis(float(terminal["growth"]), GROWTH_STEP, offsets),
    }


def sensitivity(dcf_inputs: Mapping[str, Any], offsets: Iterable[int] = GRID) -> dict[str, Any]:
    """Value per share over WACC (rows) × the terminal driver (columns)."""
    offsets = tuple(offsets)
    wacc = {"driver": "wacc", "values": _axis(float(dcf_inputs["wacc"]), WACC_STEP, offsets)}
    return evaluate(
        "sensitivity",
        {
            **dcf_inputs,
            "row": wacc,
            "col": _terminal_axis(dcf_inputs, offsets),
            "metric": "value_per_share",
        },
    )


def _finite(cells: Iterable[Iterable[float | None]]) -> list[float]:
    return [c for row in cells for c in row if c is not None]


def _per_share_bars(result: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    bars = []
    for implied in result.get("implied") or []:
        per_share = implied.get("per_share")
        if not per_share:
            continue
        name = MULTIPLES.get(str(implied["multiple"]), str(implied["multiple"]))
        bars.append(
            {
                "label": f"{prefix} · {name}",
                "low": per_share["low"],
                "high": per_share["high"],
                "midpoint": per_share["mid"],
            }
        )
    premium = (result.get("control_premium") or {}).get("per_share")
    if premium:
        bars.append(
            {
                "label": f"{prefix} · control premium",
                "low": premium["low"],
                "high": premium["high"],
                "midpoint": premium["mid"],
            }
        )
    return bars


@dataclass
class Football:
    field: dict[str, Any] | None
    """The ``football_field`` calc result, or None when there is nothing to draw."""
    source: str
    """Where the bars come from, in words."""
    left_out: list[str]
    """Versions not drawn, and why."""


def football(versions: Versions) -> Football:
    """The football field of the latest valuation work (see the module docstring)."""
    stored = versions.get("football_field")
    dcf = versions.get("dcf")
    newest = max((v["version"] for v in versions.latest.values()), default=0)
    if stored is not None and stored["version"] == newest:
        return Football(dict(stored["result"]), f"stored football field v{stored['version']}", [])
    if dcf is None:
        return Football(None, "", [])
    inputs, result = dcf["inputs"], dcf["result"]
    currency = str(result["currency"])
    grid = sensitivity(inputs, RANGE)
    values = _finite(grid["cells"])
    bars = []
    if values:
        bars.append(
            {
                "label": f"DCF v{dcf['version']}",
                "low": min(values),
                "high": max(values),
                "midpoint": result["value_per_share"],
            }
        )
    left_out: list[str] = []
    for kind, prefix in (("comps", "Trading comps"), ("precedents", "Precedents")):
        version = versions.get(kind)
        if version is None:
            continue
        other = version["result"].get("currency")
        if other != currency:
            left_out.append(f"{kind} v{version['version']} is in {other}, the DCF in {currency}")
            continue
        found = _per_share_bars(version["result"], f"{prefix} v{version['version']}")
        if not found:
            left_out.append(f"{kind} v{version['version']} has no per-share range (no shares)")
        bars += found
    if not bars:
        return Football(None, "", left_out)
    try:
        field_ = evaluate(
            "football_field", {"currency": currency, "unit": "per share", "bars": bars}
        )
    except Invalid as exc:  # a degenerate range: say so rather than fail the page
        return Football(None, "", [*left_out, exc.detail])
    return Football(field_, f"DCF v{dcf['version']} and the latest comps/precedents", left_out)


def pct_labels(values: Iterable[float]) -> list[str]:
    return [f"{v * 100:.1f}%" for v in values]


def axis_labels(driver: str, values: Iterable[float]) -> list[str]:
    if driver == "exit_multiple":
        return [f"{v:g}×" for v in values]
    return pct_labels(values)
