"""Readable answers of ``novacron corporate calc`` (table mode): one headline per kind,
plus a small table where the answer is one (comps, synergies, a sensitivity grid).

``--output json`` bypasses all of this and prints the server's answer unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Lines = list[str]


def num(value: Any, digits: int = 2) -> str:
    """``1,188.44``; ``-`` for None (an NM or missing figure)."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def pct(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _cur(result: dict[str, Any]) -> str:
    return f" {result['currency']}" if result.get("currency") else ""


def _npv(r: dict[str, Any]) -> Lines:
    when = "first flow at t=0" if r["timing"] == "t0" else "every flow at the end of its period"
    return [f"NPV {num(r['npv'])}{_cur(r)} at {pct(r['rate'])} ({when})"]


def _irr(r: dict[str, Any]) -> Lines:
    lines = [f"IRR {pct(r['irr'])}"]
    if r.get("ambiguous"):
        roots = ", ".join(pct(x) for x in r["roots"])
        lines.append(f"ambiguous: {len(r['roots'])} rates make the NPV zero: {roots}")
    return lines


def _payback(r: dict[str, Any]) -> Lines:
    def periods(v: Any) -> str:
        return "never (the investment is not recovered)" if v is None else f"{v:.4g} periods"

    lines = [f"payback {periods(r['payback'])}"]
    if "discounted_payback" in r:
        lines.append(f"discounted payback at {pct(r['rate'])}: {periods(r['discounted_payback'])}")
    return lines


def _wacc(r: dict[str, Any]) -> Lines:
    return [
        f"WACC {pct(r['wacc'])} (equity {pct(r['equity_weight'], 1)} at "
        f"{pct(r['cost_of_equity'])}, debt {pct(r['debt_weight'], 1)} at "
        f"{pct(r['after_tax_cost_of_debt'])} after tax)"
    ]


def _dcf(r: dict[str, Any]) -> Lines:
    c = _cur(r)
    lines = [
        f"value per share {num(r['value_per_share'])}{c} on {num(r['diluted_shares'])} "
        f"diluted shares",
        f"enterprise value {num(r['enterprise_value'])}{c} (terminal value "
        f"{pct(r['tv_share_of_ev'], 1)} of it), equity value {num(r['equity_value'])}{c}",
    ]
    return lines + [f"warning: {w}" for w in r.get("warnings") or []]


def _summary_rows(summary: dict[str, Any]) -> Lines:
    rows = [f"{'multiple':<12}{'n':>4}{'NM':>4}{'min':>10}{'25th':>10}{'median':>10}"
            f"{'mean':>10}{'75th':>10}{'max':>10}"]  # fmt: skip
    for name, s in summary.items():
        cells = "".join(f"{num(s[k]):>10}" for k in ("min", "p25", "median", "mean", "p75", "max"))
        rows.append(f"{name:<12}{s['n']:>4}{s['nm_count']:>4}{cells}")
    return rows


def _implied(r: dict[str, Any]) -> Lines:
    lines = []
    for imp in r.get("implied") or []:
        ps = imp.get("per_share")
        where = imp["per_share"] if ps else imp["enterprise_value"]
        what = "per share" if ps else "EV"
        lines.append(
            f"{imp['multiple']}: implied {what} {num(where['low'])}-{num(where['high'])}"
            f"{_cur(r)} (median {num(where['mid'])})"
        )
    return lines


def _comps(r: dict[str, Any]) -> Lines:
    return [*_summary_rows(r["summary"]), f"quartiles: {r['quartile_method']}", *_implied(r)]


def _precedents(r: dict[str, Any]) -> Lines:
    lines = _comps(r)
    control = r.get("control_premium")
    if control:
        ps = control["per_share"]
        lines.append(
            f"control premium ({control['source']}) {pct(control['premium']['mid'], 1)}: "
            f"offer {num(ps['low'])}-{num(ps['high'])}{_cur(r)} per share"
        )
    return lines


def _football(r: dict[str, Any]) -> Lines:
    lines = [f"{b['label']:<28}{num(b['low']):>12}{num(b['midpoint']):>12}{num(b['high']):>12}"
             for b in r["bars"]]  # fmt: skip
    lines.append(f"range {num(r['min'])}-{num(r['max'])}{_cur(r)} {r['unit']}")
    for name in ("current_price", "offer_price"):
        if r.get(name) is not None:
            lines.append(f"{name.replace('_', ' ')} {num(r[name])}")
    return lines


def _synergies(r: dict[str, Any]) -> Lines:
    lines = [f"{'year':<6}{'revenue':>12}{'cost':>12}{'one-off':>12}{'after tax':>12}{'PV':>12}"]
    for y in r["years"]:
        lines.append(
            f"{y['year']:<6}{num(y['revenue_contribution']):>12}{num(y['cost_synergies']):>12}"
            f"{num(y['integration_costs']):>12}{num(y['after_tax']):>12}"
            f"{num(y['present_value']):>12}"
        )
    lines.append(
        f"NPV of synergies {num(r['npv'])}{_cur(r)} (years {num(r['pv_synergies'])}, "
        f"terminal value {num(r['pv_terminal_value'])})"
    )
    return lines


def _accretion(r: dict[str, Any]) -> Lines:
    return [
        f"{r['status']} {r['accretion_pct']:+.2f}%: pro-forma EPS {num(r['pro_forma_eps'], 4)} "
        f"vs standalone {num(r['standalone_eps'], 4)}{_cur(r)}",
        f"pro-forma net income {num(r['pro_forma_net_income'])} on "
        f"{num(r['pro_forma_shares'])} shares ({num(r['new_shares'])} new)",
        f"break-even pre-tax synergies {num(r['breakeven_synergies'])}; "
        f"still needed {num(r['additional_synergies_needed'])}",
    ]


def _sensitivity(r: dict[str, Any]) -> Lines:
    head = f"{r['row_driver']} \\ {r['col_driver']}"
    lines = [f"{head:<24}" + "".join(f"{v:>12.4g}" for v in r["col_values"])]
    for value, cells in zip(r["row_values"], r["cells"], strict=True):
        lines.append(f"{value:<24.4g}" + "".join(f"{num(c):>12}" for c in cells))
    lines.append(f"{r['metric']} (base {num(r['base_value'])}{_cur(r)}; - = invalid model)")
    return lines


def _scenarios(r: dict[str, Any]) -> Lines:
    lines = [
        f"{s['name']:<10} value per share {num(s['result']['value_per_share'])}{_cur(r)}, "
        f"EV {num(s['result']['enterprise_value'])}"
        for s in r["scenarios"]
    ]
    if r.get("weighted"):
        lines.append(
            f"probability-weighted value per share {num(r['weighted']['value_per_share'])}"
        )
    return lines


def _monte_carlo(r: dict[str, Any]) -> Lines:
    ev = r["enterprise_value"]
    points = ", ".join(f"p{p:g} {num(v)}" for p, v in ev["percentiles"])
    return [
        f"{r['valid_paths']:,} of {r['paths']:,} paths valid (seed {r['seed']})",
        f"EV mean {num(ev['mean'])}{_cur(r)}, sd {num(ev['std'])}; {points}",
        f"value per share median {num(_p50(r['value_per_share']))}",
    ]


def _p50(summary: dict[str, Any]) -> Any:
    return next((v for p, v in summary["percentiles"] if p == 50), summary["mean"])


def _scalar(name: str, as_pct: bool) -> Callable[[dict[str, Any]], Lines]:
    def headline(r: dict[str, Any]) -> Lines:
        value = pct(r[name]) if as_pct else num(r[name])
        return [f"{name.upper()} {value}{_cur(r)}"]

    return headline


HEADLINES: dict[str, Callable[[dict[str, Any]], Lines]] = {
    "npv": _npv,
    "irr": _irr,
    "xirr": _scalar("xirr", True),
    "mirr": _scalar("mirr", True),
    "pmt": _scalar("pmt", False),
    "payback": _payback,
    "wacc": _wacc,
    "dcf": _dcf,
    "comps": _comps,
    "precedents": _precedents,
    "football_field": _football,
    "synergies": _synergies,
    "accretion_dilution": _accretion,
    "sensitivity": _sensitivity,
    "scenarios": _scenarios,
    "monte_carlo": _monte_carlo,
}


def readable(kind: str, result: dict[str, Any]) -> str:
    """The human answer of ``kind``; the raw fields (``key: value``) for an unknown one."""
    fn = HEADLINES.get(kind)
    if fn is None:
        return "\n".join(f"{k}: {v}" for k, v in result.items())
    return "\n".join(fn(result))
