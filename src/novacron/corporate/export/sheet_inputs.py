"""The "Inputs" sheet: every driver of the DCF in its own labelled cell.

Each scalar driver gets a workbook-level defined name (``WACC``, ``Tax_Rate`` …) so the DCF
sheet's formulas read like the model (``=C10*(1-Tax_Rate)``); the per-year drivers sit in a
year-by-column table aligned with the DCF sheet's columns (year t in column C+t−1 on both
sheets), so ``=Inputs!D24`` is visibly year 2's growth.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from novacron.corporate.export import styles as st
from novacron.corporate.finance.dcf import DCFInputs
from novacron.corporate.finance.terminal import GordonGrowth

SHEET = "Inputs"
FIRST_YEAR_COL = 3
"""Year t of the forecast lives in column ``FIRST_YEAR_COL + t - 1`` (C = year 1)."""

YEAR_ROW = 23
GROWTH_ROW = 24
MARGIN_ROW = 25
OPTIONS_HEADER_ROW = 28


def year_col(year: int) -> str:
    """The column letter of forecast year ``year`` (0 = the last actual year, column B)."""
    return get_column_letter(FIRST_YEAR_COL + year - 1)


@dataclass(frozen=True, slots=True)
class OptionRow:
    count_ref: str
    strike_ref: str


@dataclass(frozen=True, slots=True)
class InputRefs:
    """Where the DCF sheet finds the inputs."""

    horizon: int
    gordon: bool
    terminal_name: str
    """``Terminal_Growth`` or ``Exit_Multiple``."""
    options: tuple[OptionRow, ...]


# (row, label, defined name, unit; "{cur}" is the currency, format)
_SCALARS: tuple[tuple[int, str, str, str, str], ...] = (
    (6, "Base revenue (last actual year)", "Base_Revenue", "{cur}", st.MONEY),
    (7, "D&A, % of revenue", "DA_Pct", "%", st.PERCENT),
    (8, "Capex, % of revenue", "Capex_Pct", "%", st.PERCENT),
    (9, "Net working capital, % of revenue", "NWC_Pct", "%", st.PERCENT),
    (10, "Tax rate on EBIT", "Tax_Rate", "%", st.PERCENT),
    (11, "WACC (discount rate)", "WACC", "%", st.PERCENT),
    (12, "Mid-year convention", "Mid_Year", "TRUE/FALSE", "General"),
    (15, "Net debt (debt − cash)", "Net_Debt", "{cur}", st.MONEY),
    (16, "Minority interest", "Minority_Interest", "{cur}", st.MONEY),
    (17, "Preferred equity", "Preferred_Equity", "{cur}", st.MONEY),
    (18, "Non-operating assets", "Non_Operating_Assets", "{cur}", st.MONEY),
    (19, "Basic shares outstanding", "Basic_Shares", "shares", st.SHARES),
    (20, "RSUs (counted in full)", "RSUs", "shares", st.SHARES),
)


def define(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    """A workbook-level name for ``sheet!ref`` (absolute)."""
    col, row = ref.rstrip("0123456789"), ref[len(ref.rstrip("0123456789")) :]
    wb.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!${col}${row}")


def _scalar_values(inputs: DCFInputs) -> dict[str, object]:
    return {
        "Base_Revenue": inputs.base_revenue,
        "DA_Pct": inputs.da_pct_revenue,
        "Capex_Pct": inputs.capex_pct_revenue,
        "NWC_Pct": inputs.nwc_pct_revenue,
        "Tax_Rate": inputs.tax_rate,
        "WACC": inputs.wacc,
        "Mid_Year": bool(inputs.mid_year),
        "Net_Debt": inputs.net_debt,
        "Minority_Interest": inputs.minority_interest,
        "Preferred_Equity": inputs.preferred_equity,
        "Non_Operating_Assets": inputs.non_operating_assets,
        "Basic_Shares": inputs.shares.basic,
        "RSUs": inputs.shares.rsus,
    }


def write_inputs(wb: Workbook, ws: Worksheet, inputs: DCFInputs, title: str) -> InputRefs:
    """Fill the Inputs sheet and name its cells; returns where the drivers are."""
    cur = inputs.currency
    ws["A1"] = f"{title}: inputs"
    ws["A1"].font = st.TITLE
    ws["A2"] = (
        f"Blue cells on yellow are inputs: change one and every sheet recalculates. "
        f"Money in {cur}; rates as percentages."
    )
    st.header_row(ws, 4, ["Driver", "Value", "Unit", "Defined name"])
    st.label(ws, "A5", "Currency")
    st.put_input(ws, "B5", cur)
    ws["D5"] = "Currency"
    define(wb, "Currency", SHEET, "B5")
    values = _scalar_values(inputs)
    for row, text, name, unit, fmt in _SCALARS:
        st.label(ws, f"A{row}", text)
        st.put_input(ws, f"B{row}", values[name], fmt)
        ws[f"C{row}"] = unit.format(cur=cur)
        ws[f"D{row}"] = name
        define(wb, name, SHEET, f"B{row}")
    st.note(ws, "B12", "TRUE: explicit-year flows are discounted at t − 0.5 (banker's mid-year).")
    terminal_name = _write_terminal(wb, ws, inputs)
    _write_years(ws, inputs)
    options = _write_options(ws, inputs)
    st.widths(ws, A=38, B=18, C=14, D=22)
    for year in range(2, inputs.horizon + 1):
        ws.column_dimensions[year_col(year)].width = 12
    return InputRefs(inputs.horizon, isinstance(inputs.terminal, GordonGrowth), terminal_name,
                     options)  # fmt: skip


def _write_terminal(wb: Workbook, ws: Worksheet, inputs: DCFInputs) -> str:
    term = inputs.terminal
    st.label(ws, "A13", "Terminal value method")
    st.label(ws, "A14", "")
    if isinstance(term, GordonGrowth):
        ws["B13"] = "Gordon growth"
        ws["A14"] = "Terminal (perpetual) growth g"
        st.put_input(ws, "B14", term.growth, st.PERCENT)
        ws["C14"] = "%"
        name = "Terminal_Growth"
    else:
        ws["B13"] = "Exit multiple"
        ws["A14"] = "Exit multiple, EV / final-year EBITDA"
        st.put_input(ws, "B14", term.ev_ebitda, st.MULTIPLE)
        ws["C14"] = "x"
        name = "Exit_Multiple"
    ws["C13"] = "(fixed by the model)"
    ws["D14"] = name
    define(wb, name, SHEET, "B14")
    return name


def _write_years(ws: Worksheet, inputs: DCFInputs) -> None:
    st.label(ws, "A22", "Forecast drivers (one column per year)", bold=True)
    st.label(ws, f"A{YEAR_ROW}", "Forecast year")
    st.label(ws, f"A{GROWTH_ROW}", "Revenue growth")
    st.label(ws, f"A{MARGIN_ROW}", "EBITDA margin")
    ws[f"B{GROWTH_ROW}"] = "%"
    ws[f"B{MARGIN_ROW}"] = "%"
    flat = not isinstance(inputs.ebitda_margin, tuple)
    first = f"{year_col(1)}{MARGIN_ROW}"
    for year, (growth, margin) in enumerate(
        zip(inputs.revenue_growth, inputs.margins(), strict=True), start=1
    ):
        col = year_col(year)
        cell = ws[f"{col}{YEAR_ROW}"]
        cell.value = year
        cell.font = st.BOLD
        st.put_input(ws, f"{col}{GROWTH_ROW}", growth, st.PERCENT)
        if flat and year > 1:
            st.put_formula(ws, f"{col}{MARGIN_ROW}", f"={first}", st.PERCENT)
        else:
            st.put_input(ws, f"{col}{MARGIN_ROW}", margin, st.PERCENT)
    if flat:
        st.note(ws, first, "One margin for every year: later years repeat this cell.")


def _write_options(ws: Worksheet, inputs: DCFInputs) -> tuple[OptionRow, ...]:
    row = OPTIONS_HEADER_ROW
    st.label(ws, f"A{row - 1}", "Options (treasury stock method)", bold=True)
    st.header_row(ws, row, ["Tranche", "Count", f"Strike ({inputs.currency})"])
    out: list[OptionRow] = []
    for i, (count, strike) in enumerate(inputs.shares.options, start=1):
        r = row + i
        ws[f"A{r}"] = f"Tranche {i}"
        st.put_input(ws, f"B{r}", count, st.SHARES)
        st.put_input(ws, f"C{r}", strike, st.PER_SHARE)
        out.append(OptionRow(f"Inputs!$B${r}", f"Inputs!$C${r}"))
    if not out:
        ws[f"A{row + 1}"] = "none"
    return tuple(out)
