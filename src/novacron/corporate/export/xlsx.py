"""A DCF valuation as an .xlsx workbook a banker can audit.

Sheets, in order:

- **Summary**: what was valued (target, version, date, currency), the key outputs as live
  formulas beside the engine's own values and their difference, the engine's warnings.
- **Inputs**: every driver in its own labelled, named cell (blue = input).
- **DCF**: the projection, terminal value, bridge and diluted shares, every computed cell a
  live formula on the Inputs sheet (see ``sheet_dcf``).
- **Sensitivity**: WACC × terminal growth (or × exit multiple) grids of value per share and
  EV. These are static values computed by the engine at export time, labelled as such: a
  live two-way grid would need an Excel data table, which no formula can express.

The workbook carries no cached values: Excel and LibreOffice compute on open
(``fullCalcOnLoad``); the tests evaluate it with a formula engine and compare with
:func:`~novacron.corporate.finance.dcf.dcf`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from novacron.corporate.export import styles as st
from novacron.corporate.export.sheet_dcf import DCFRefs, write_dcf
from novacron.corporate.export.sheet_inputs import write_inputs
from novacron.corporate.finance.dcf import DCFInputs, DCFResult, dcf
from novacron.corporate.finance.sensitivity import SensitivityTable, driver_value, sensitivity
from novacron.corporate.finance.terminal import GordonGrowth

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

RATE_STEPS = (-0.01, -0.005, 0.0, 0.005, 0.01)
"""WACC and terminal growth around the model's own, in the sensitivity grids."""
MULTIPLE_STEPS = (-2.0, -1.0, 0.0, 1.0, 2.0)
STATIC_LABEL = (
    "STATIC VALUES computed by the NovaCron engine at export time, not live formulas "
    "(a two-way grid would need an Excel data table). Re-export after changing inputs."
)


@dataclass(frozen=True, slots=True)
class ExportMeta:
    """What the cover sheet says about the valuation."""

    exported_at: datetime
    target: str | None = None
    version: int | None = None
    approved: bool | None = None
    note: str | None = None
    created_by: str | None = None
    extra: Sequence[tuple[str, str]] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        if self.target is None:
            return "DCF valuation"
        version = f" v{self.version}" if self.version is not None else ""
        return f"{self.target}{version}"


def dcf_workbook(inputs: DCFInputs, meta: ExportMeta) -> Workbook:
    """The audit workbook of ``inputs``; ``Invalid`` (from the engine) when the model is
    inconsistent, so no workbook of a model the engine refuses is ever produced."""
    result = dcf(inputs)
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    refs = write_inputs(wb, wb.create_sheet("Inputs"), inputs, meta.title)
    dcf_refs = write_dcf(wb.create_sheet("DCF"), refs, inputs.currency, meta.title)
    _write_sensitivity(wb.create_sheet("Sensitivity"), inputs, meta.title)
    _write_summary(summary, inputs, result, dcf_refs, meta)
    wb.calculation.fullCalcOnLoad = True
    return wb


def dcf_xlsx(inputs: DCFInputs, meta: ExportMeta) -> bytes:
    """:func:`dcf_workbook` as the bytes of an .xlsx file."""
    buffer = io.BytesIO()
    dcf_workbook(inputs, meta).save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ summary


def _write_summary(
    ws: Worksheet, inputs: DCFInputs, result: DCFResult, refs: DCFRefs, meta: ExportMeta
) -> None:
    ws["A1"] = f"NovaCron valuation: {meta.title}"
    ws["A1"].font = st.TITLE
    approved = None if meta.approved is None else ("yes" if meta.approved else "no")
    facts = [
        ("Target", meta.target or "(stateless calculation)"),
        ("Valuation version", None if meta.version is None else f"v{meta.version}"),
        ("Approved", approved),
        ("Model", "DCF (FCFF)"),
        ("Exported (UTC)", meta.exported_at.strftime("%Y-%m-%d %H:%M")),
        ("Currency", inputs.currency),
        ("Terminal value", "Gordon growth" if result.terminal_method == "gordon"
         else "Exit multiple"),
        ("Mid-year convention", "yes" if inputs.mid_year else "no"),
        ("Created by", meta.created_by),
        ("Note", meta.note),
        *meta.extra,
    ]  # fmt: skip
    row = 3
    for key, value in facts:
        if value is None:
            continue
        st.label(ws, f"A{row}", key, bold=True)
        ws[f"B{row}"] = value
        row += 1
    row += 1
    st.header_row(ws, row, ["Key output", "Workbook (live formula)", "Engine (NovaCron)",
                            "Difference", "Unit"])  # fmt: skip
    cur = inputs.currency
    outputs = [
        ("Sum of PV of FCFF", refs.sum_pv, result.sum_pv_fcff, st.MONEY, cur),
        ("Terminal value", refs.terminal_value, result.terminal_value, st.MONEY, cur),
        ("PV of terminal value", refs.pv_terminal_value, result.pv_terminal_value, st.MONEY, cur),
        ("Enterprise value", refs.enterprise_value, result.enterprise_value, st.MONEY, cur),
        ("Equity value", refs.equity_value, result.equity_value, st.MONEY, cur),
        ("Diluted shares", refs.diluted_shares, result.diluted_shares, st.SHARES, "shares"),
        ("Value per share", refs.value_per_share, result.value_per_share, st.PER_SHARE, cur),
    ]
    for text, ref, engine, fmt, unit in outputs:
        row += 1
        st.label(ws, f"A{row}", text, bold=text in ("Enterprise value", "Value per share"))
        st.put_formula(ws, f"B{row}", f"={ref}", fmt, link=True)
        st.put_static(ws, f"C{row}", engine, fmt)
        st.put_formula(ws, f"D{row}", f"=B{row}-C{row}", fmt)
        ws[f"E{row}"] = unit
    row += 2
    ws[f"A{row}"] = (
        "Green = a link to another sheet; blue on yellow = an input; grey = a value pasted "
        "from the engine (not live)."
    )
    _write_warnings(ws, row + 2, result.warnings)
    st.widths(ws, A=28, B=24, C=22, D=16, E=10)


def _write_warnings(ws: Worksheet, row: int, warnings: Sequence[str]) -> None:
    st.label(ws, f"A{row}", "Engine warnings", bold=True)
    for i, text in enumerate(warnings or ("none",), start=1):
        ws[f"A{row + i}"] = f"• {text}"


# ------------------------------------------------------------------ sensitivity


def sensitivity_axes(inputs: DCFInputs) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """``(("wacc", values), (column driver, values))`` centred on the model's own values."""
    waccs = tuple(round(inputs.wacc + d, 10) if d else inputs.wacc for d in RATE_STEPS)
    waccs = tuple(w for w in waccs if w > 0)
    term = inputs.terminal
    if isinstance(term, GordonGrowth):
        growths = tuple(round(term.growth + d, 10) if d else term.growth for d in RATE_STEPS)
        return ("wacc", waccs), ("terminal_growth", tuple(g for g in growths if g > -1))
    multiples = tuple(term.ev_ebitda + d for d in MULTIPLE_STEPS)
    return ("wacc", waccs), ("exit_multiple", tuple(m for m in multiples if m > 0))


_AXIS_LABEL = {
    "wacc": ("WACC", st.PERCENT),
    "terminal_growth": ("Terminal growth g", st.PERCENT),
    "exit_multiple": ("Exit multiple", st.MULTIPLE),
}


def _write_sensitivity(ws: Worksheet, inputs: DCFInputs, title: str) -> None:
    ws["A1"] = f"{title}: sensitivity"
    ws["A1"].font = st.TITLE
    ws["A2"] = STATIC_LABEL
    ws["A2"].font = st.BOLD
    row_axis, col_axis = sensitivity_axes(inputs)
    base = (driver_value(inputs, row_axis[0]), driver_value(inputs, col_axis[0]))
    row = 4
    for metric, text, fmt in (
        ("value_per_share", f"Value per share ({inputs.currency})", st.PER_SHARE),
        ("enterprise_value", f"Enterprise value ({inputs.currency})", st.MONEY),
    ):
        table = sensitivity(inputs, row_axis, col_axis, metric)
        row = _write_grid(ws, row, text, table, fmt, base) + 2
    st.widths(ws, A=22, B=16, C=16, D=16, E=16, F=16, G=16)


def _write_grid(
    ws: Worksheet,
    row: int,
    text: str,
    table: SensitivityTable,
    fmt: str,
    base: tuple[float, float],
) -> int:
    """One grid with its axes; the model's own case is bold and boxed. Returns its last row."""
    row_label, row_fmt = _AXIS_LABEL[table.row_driver]
    col_label, col_fmt = _AXIS_LABEL[table.col_driver]
    st.label(ws, f"A{row}", text, bold=True)
    ws.cell(row=row + 1, column=1, value=f"{row_label} ↓ / {col_label} →").font = st.BOLD
    for j, col_value in enumerate(table.col_values):
        cell = ws.cell(row=row + 1, column=2 + j, value=col_value)
        cell.number_format = col_fmt
        cell.font = st.BOLD
        cell.fill = st.HEADER_FILL
    for i, (rv, line, reasons) in enumerate(
        zip(table.row_values, table.cells, table.reasons, strict=True)
    ):
        r = row + 2 + i
        head = ws.cell(row=r, column=1, value=rv)
        head.number_format = row_fmt
        head.font = st.BOLD
        head.fill = st.HEADER_FILL
        for j, (value, reason) in enumerate(zip(line, reasons, strict=True)):
            ref = ws.cell(row=r, column=2 + j).coordinate
            st.put_static(ws, ref, "n/a" if value is None else value, fmt)
            if reason:
                st.note(ws, ref, reason)
            if (rv, table.col_values[j]) == base:
                ws[ref].font = st.BOLD
                ws[ref].border = st.TOTAL_BORDER
    return row + 1 + len(table.row_values)
