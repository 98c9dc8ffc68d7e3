"""Plotly figures of the corporate pages, as plain JSON-ready dicts (pure: no I/O).

Each builder returns ``{"data": [...], "layout": {...}}``; a page embeds it in a
``<script type="application/json">`` block and ``corporate.js`` hands it to
``Plotly.newPlot`` (no inline script: the CSP forbids it). Numbers go out as floats:
charts show shapes, the tables beside them carry the exact Decimal figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from novacron.corporate.web.format import compact, label

Figure = dict[str, Any]

ACCENT = "#4f46e5"
ACCENT_SOFT = "#a5b4fc"
OK = "#16a34a"
WARN = "#d97706"
BAD = "#dc2626"
INFO = "#2563eb"
MUTED = "#94a3b8"
RAG_COLOURS = {"green": OK, "amber": WARN, "red": BAD, "grey": MUTED}
FUNNEL_COLOURS = ["#6366f1", "#4f46e5", "#4338ca", "#3730a3", "#312e81", "#1e1b4b"]


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "showlegend": False}
    base.update(extra)
    return base


def funnel(stages: Sequence[Mapping[str, Any]], currency: str | None) -> Figure:
    """The M&A pipeline: one bar per stage (count), its value in the hover and label.

    ``stages``: ``{"stage", "count", "value"}`` in pipeline order."""
    texts = [
        f"{s['count']} · {currency} {compact(s['value'])}" if currency else str(s["count"])
        for s in stages
    ]
    return {
        "data": [
            {
                "type": "funnel",
                "y": [label(s["stage"]) for s in stages],
                "x": [s["count"] for s in stages],
                "text": texts,
                "textinfo": "text",
                "hovertemplate": "%{y}: %{text}<extra></extra>",
                "marker": {"color": FUNNEL_COLOURS[: len(stages)] or [ACCENT]},
                "connector": {"fillcolor": "#eef2ff", "line": {"color": "#e3e8ef", "width": 1}},
            }
        ],
        "layout": _layout(margin={"l": 110, "r": 10, "t": 10, "b": 10}, height=300),
    }


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    *,
    yaxis_title: str = "",
    height: int = 300,
) -> Figure:
    """Side-by-side bars: ``series`` is ``(name, values per category, colour)``."""
    return {
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": [label(c) for c in categories],
                "y": list(values),
                "marker": {"color": colour},
                "hovertemplate": "%{x} · " + name + ": %{y:,.0f}<extra></extra>",
            }
            for name, values, colour in series
        ],
        "layout": _layout(
            barmode="group",
            showlegend=True,
            legend={"orientation": "h", "y": -0.15},
            margin={"l": 60, "r": 10, "t": 10, "b": 40},
            yaxis={"title": {"text": yaxis_title}, "rangemode": "tozero"},
            height=height,
        ),
    }


def football_field(field: Mapping[str, Any]) -> Figure:
    """Floating horizontal bars, one per method (low to high), with the current price and
    the offer as vertical lines; ``field`` is the ``football_field`` calc result."""
    bars = list(field["bars"])
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for key, name, colour in (("current_price", "Current", MUTED), ("offer_price", "Offer", BAD)):
        value = field.get(key)
        if value is None:
            continue
        shapes.append(
            {
                "type": "line",
                "x0": value,
                "x1": value,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "width": 2, "dash": "dash"},
            }
        )
        annotations.append(
            {
                "x": value,
                "yref": "paper",
                "y": 1.02,
                "text": f"{name} {value:,.2f}",
                "showarrow": False,
                "font": {"color": colour, "size": 11},
            }
        )
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [b["label"] for b in bars],
                "x": [b["high"] - b["low"] for b in bars],
                "base": [b["low"] for b in bars],
                "customdata": [[b["low"], b["high"], b["midpoint"]] for b in bars],
                "hovertemplate": "%{y}: %{customdata[0]:,.2f} – %{customdata[1]:,.2f}"
                " (mid %{customdata[2]:,.2f})<extra></extra>",
                "marker": {"color": ACCENT_SOFT, "line": {"color": ACCENT, "width": 1}},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "y": [b["label"] for b in bars],
                "x": [b["midpoint"] for b in bars],
                "marker": {"symbol": "line-ns-open", "size": 18, "color": ACCENT},
                "hoverinfo": "skip",
            },
        ],
        "layout": _layout(
            margin={"l": 190, "r": 20, "t": 24, "b": 40},
            height=90 + 44 * len(bars),
            xaxis={"title": {"text": f"{field['currency']} {field['unit']}"}},
            yaxis={"automargin": True},
            shapes=shapes,
            annotations=annotations,
        ),
    }


def heat_map(
    z: Sequence[Sequence[float | None]],
    x: Sequence[str],
    y: Sequence[str],
    *,
    x_title: str,
    y_title: str,
    colorscale: Any = "RdYlGn",
    text_format: str = "%{z:,.2f}",
    height: int = 320,
) -> Figure:
    """A labelled grid (every cell printed), worst/best by ``colorscale``."""
    return {
        "data": [
            {
                "type": "heatmap",
                "z": [list(row) for row in z],
                "x": list(x),
                "y": list(y),
                "colorscale": colorscale,
                "texttemplate": text_format,
                "hoverongaps": False,
                "xgap": 2,
                "ygap": 2,
                "showscale": False,
                "hovertemplate": y_title + " %{y} · " + x_title + " %{x}: %{z}<extra></extra>",
            }
        ],
        "layout": _layout(
            margin={"l": 70, "r": 10, "t": 10, "b": 50},
            height=height,
            xaxis={"title": {"text": x_title}, "type": "category"},
            yaxis={"title": {"text": y_title}, "type": "category"},
        ),
    }


RISK_COLOURS = [[0, "#f8fafc"], [0.01, "#fde68a"], [0.5, "#f97316"], [1, "#dc2626"]]


def risk_heat_map(counts: Sequence[Sequence[int]]) -> Figure:
    """The diligence 5×5: rows severity 5..1 (worst on top), columns likelihood 1..5."""
    return heat_map(
        counts,
        [str(i) for i in range(1, 6)],
        [str(i) for i in range(5, 0, -1)],
        x_title="Likelihood",
        y_title="Severity",
        colorscale=RISK_COLOURS,
        text_format="%{z}",
        height=280,
    )


def realisation(points: Sequence[Mapping[str, Any]], currency: str) -> Figure:
    """Cumulative synergies, plan against actual, by quarter after close."""
    x = [f"Q{p['period']}" for p in points]
    actual = [p for p in points if p.get("actual_cumulative") is not None]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Plan (cumulative)",
                "x": x,
                "y": [float(p["planned_cumulative"]) for p in points],
                "line": {"color": MUTED, "dash": "dash", "width": 2},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Actual (cumulative)",
                "x": [f"Q{p['period']}" for p in actual],
                "y": [float(p["actual_cumulative"]) for p in actual],
                "line": {"color": ACCENT, "width": 3},
            },
        ],
        "layout": _layout(
            showlegend=True,
            legend={"orientation": "h", "y": -0.2},
            margin={"l": 70, "r": 10, "t": 10, "b": 50},
            height=300,
            yaxis={"title": {"text": currency}, "rangemode": "tozero"},
        ),
    }


def timeline(phases: Sequence[Mapping[str, Any]], today: date) -> Figure:
    """The programme's phases as a Gantt strip, with today as a line."""
    names = [p["name"] for p in phases]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": names,
                "base": [p["start_date"].isoformat() for p in phases],
                "x": [_ms(p["start_date"], p["end_date"]) for p in phases],
                "marker": {"color": [RAG_COLOURS.get(p.get("rag", ""), ACCENT) for p in phases]},
                "customdata": [
                    [p["start_date"].isoformat(), p["end_date"].isoformat()] for p in phases
                ],
                "hovertemplate": "%{y}: %{customdata[0]} → %{customdata[1]}<extra></extra>",
            }
        ],
        "layout": _layout(
            margin={"l": 130, "r": 10, "t": 10, "b": 30},
            height=60 + 36 * len(phases),
            xaxis={"type": "date"},
            yaxis={"autorange": "reversed"},
            shapes=[
                {
                    "type": "line",
                    "x0": today.isoformat(),
                    "x1": today.isoformat(),
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": BAD, "width": 2},
                }
            ],
        ),
    }


def _ms(start: date, end: date) -> int:
    """Bar length on a date axis: milliseconds, end day included."""
    return ((end - start).days + 1) * 86_400_000
