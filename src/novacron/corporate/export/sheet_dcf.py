"""The "DCF" sheet: every computed cell a live formula on the Inputs sheet.

Rows are the line items of :mod:`novacron.corporate.finance.dcf`, columns the years (B =
the last actual year, C… = forecast years, aligned with the Inputs sheet). The formulas are
the engine's, written out; the terminal value follows the engine's timing conventions
(``finance/terminal.py``), and the diluted shares are solved exactly without a circular
reference (see :func:`_write_shares`).
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.worksheet.worksheet import Worksheet

from novacron.corporate.export import styles as st
from novacron.corporate.export.sheet_inputs import (
    GROWTH_ROW,
    MARGIN_ROW,
    YEAR_ROW,
    InputRefs,
    year_col,
)

SHEET = "DCF"

# Line items: (row, label, formula for year column {c} with previous column {p}, format)
_LINES: tuple[tuple[int, str, str, str], ...] = (
    (5, "Revenue growth", f"=Inputs!{{c}}{GROWTH_ROW}", st.PERCENT),
    (6, "Revenue", "={p}6*(1+{c}5)", st.MONEY),
    (7, "EBITDA margin", f"=Inputs!{{c}}{MARGIN_ROW}", st.PERCENT),
    (8, "EBITDA", "={c}6*{c}7", st.MONEY),
    (9, "D&A", "={c}6*DA_Pct", st.MONEY),
    (10, "EBIT", "={c}8-{c}9", st.MONEY),
    (11, "Taxes on EBIT (a loss earns a credit)", "={c}10*Tax_Rate", st.MONEY),
    (12, "NOPAT", "={c}10-{c}11", st.MONEY),
    (13, "Capex", "={c}6*Capex_Pct", st.MONEY),
    (14, "Net working capital", "={c}6*NWC_Pct", st.MONEY),
    (15, "Change in NWC", "={c}14-{p}14", st.MONEY),
    (16, "FCFF = NOPAT + D&A − capex − ΔNWC", "={c}12+{c}9-{c}13-{c}15", st.MONEY),
    (17, "Discount period (years)", "=IF(Mid_Year,{c}4-0.5,{c}4)", st.PERIOD),
    (18, "Discount factor", "=1/(1+WACC)^{c}17", st.FACTOR),
    (19, "PV of FCFF", "={c}16*{c}18", st.MONEY),
)
_LINKS = {5, 7}
"""Rows that only bring an Inputs cell over (green)."""


@dataclass(frozen=True, slots=True)
class DCFRefs:
    """Absolute references of the figures the Summary sheet shows."""

    sum_pv: str
    terminal_value: str
    pv_terminal_value: str
    enterprise_value: str
    tv_share: str
    equity_value: str
    diluted_shares: str
    value_per_share: str


def _abs(row: int, col: str = "B") -> str:
    return f"{SHEET}!${col}${row}"


def write_dcf(ws: Worksheet, refs: InputRefs, currency: str, title: str) -> DCFRefs:
    ws["A1"] = f"{title}: discounted cash flow"
    ws["A1"].font = st.TITLE
    ws["A2"] = f"Money in {currency}. Every figure is a formula on the Inputs sheet."
    st.header_row(ws, 4, ["Year", "Actual"])
    ws["B4"] = 0
    ws["B4"].number_format = st.YEAR
    last = year_col(refs.horizon)
    for year in range(1, refs.horizon + 1):
        c = year_col(year)
        st.put_formula(ws, f"{c}4", f"=Inputs!{c}{YEAR_ROW}", st.YEAR, link=True)
        ws[f"{c}4"].font = st.BOLD
        p = year_col(year - 1)
        for row, _, formula, fmt in _LINES:
            st.put_formula(ws, f"{c}{row}", formula.format(c=c, p=p), fmt, link=row in _LINKS)
    for row, text, _, _ in _LINES:
        st.label(ws, f"A{row}", text, bold=row in (16, 19))
    st.put_formula(ws, "B6", "=Base_Revenue", st.MONEY, link=True)
    st.put_formula(ws, "B14", "=B6*NWC_Pct", st.MONEY)
    st.note(ws, "C17", "t − 0.5 under the mid-year convention (Inputs: Mid_Year), else t.")
    ws.freeze_panes = "B5"
    st.widths(ws, A=42, B=18)
    for year in range(1, refs.horizon + 1):
        ws.column_dimensions[year_col(year)].width = 16
    equity, ev = _write_valuation(ws, refs, last)
    diluted, price = _write_shares(ws, refs)
    return DCFRefs(
        sum_pv=_abs(22),
        terminal_value=_abs(23),
        pv_terminal_value=_abs(26),
        enterprise_value=ev,
        tv_share=_abs(28),
        equity_value=equity,
        diluted_shares=diluted,
        value_per_share=price,
    )


def _write_valuation(ws: Worksheet, refs: InputRefs, last: str) -> tuple[str, str]:
    """Terminal value, enterprise value and the bridge to equity (rows 21-37)."""
    first = year_col(1)
    st.label(ws, "A21", "Valuation", bold=True)
    rows: list[tuple[int, str, str, str]] = [
        (22, "Sum of PV of FCFF", f"=SUM({first}19:{last}19)", st.MONEY),
    ]
    if refs.gordon:
        rows += [
            (23, "Terminal value (Gordon): FCFF_N × (1 + g) / (WACC − g)",
             f"={last}16*(1+Terminal_Growth)/(WACC-Terminal_Growth)", st.MONEY),
            (24, "TV discount period (N − 0.5 under mid-year)",
             f"=IF(Mid_Year,{last}4-0.5,{last}4)", st.PERIOD),
            (29, "Implied exit multiple (TV at N / EBITDA_N)",
             f'=IF({last}8>0,B23*IF(Mid_Year,(1+WACC)^0.5,1)/{last}8,"n/a")', st.MULTIPLE),
        ]  # fmt: skip
    else:
        a = "B23/IF(Mid_Year,(1+WACC)^0.5,1)"
        rows += [
            (23, "Terminal value (exit multiple): EBITDA_N × multiple",
             f"={last}8*Exit_Multiple", st.MONEY),
            (24, "TV discount period (a sale price at the end of year N)", f"={last}4", st.PERIOD),
            (29, "Implied perpetual growth (same PV, Gordon timing)",
             f"=({a}*WACC-{last}16)/({a}+{last}16)", st.PERCENT),
        ]  # fmt: skip
    rows += [
        (25, "TV discount factor", "=1/(1+WACC)^B24", st.FACTOR),
        (26, "PV of terminal value", "=B23*B25", st.MONEY),
        (27, "Enterprise value", "=B22+B26", st.MONEY),
        (28, "PV of terminal value, share of EV", '=IF(B27>0,B26/B27,"n/a")', st.PERCENT),
        (32, "Enterprise value", "=B27", st.MONEY),
        (33, "less: net debt", "=-Net_Debt", st.MONEY),
        (34, "less: minority interest", "=-Minority_Interest", st.MONEY),
        (35, "less: preferred equity", "=-Preferred_Equity", st.MONEY),
        (36, "plus: non-operating assets", "=Non_Operating_Assets", st.MONEY),
        (37, "Equity value", "=SUM(B32:B36)", st.MONEY),
    ]
    for row, text, formula, fmt in rows:
        st.label(ws, f"A{row}", text, bold=row in (27, 37))
        st.put_formula(ws, f"B{row}", formula, fmt)
    st.label(ws, "A31", "Bridge to equity", bold=True)
    ws["B27"].font = st.BOLD
    ws["B37"].font = st.BOLD
    ws["B27"].border = st.TOTAL_BORDER
    ws["B37"].border = st.TOTAL_BORDER
    if refs.gordon:
        st.note(ws, "B24", "Gordon flows arrive mid-year too: the TV is discounted at N − 0.5.")
    else:
        st.note(ws, "B24", "An exit price at a date: discounted at N in both conventions.")
    return _abs(37), _abs(27)


SHARES_ROW = 40
TSM_NOTE = (
    "Treasury stock method, solved exactly without a circular reference. The value per "
    "share P solves P × diluted(P) = equity, where an in-the-money tranche (strike < P) adds "
    "count × (1 − strike / P) shares. f(P) = P × diluted(P) is increasing, so a tranche is "
    "in the money exactly when equity exceeds f(its strike) (column D); then "
    "P = (equity + Σ count × strike) / (basic + RSUs + Σ count) over those tranches."
)


def _write_shares(ws: Worksheet, refs: InputRefs) -> tuple[str, str]:
    """Diluted shares and value per share (rows 39…); returns their references."""
    r = SHARES_ROW
    st.label(ws, f"A{r - 1}", "Diluted shares (treasury stock method)", bold=True)
    st.label(ws, f"A{r}", "Basic shares + RSUs")
    st.put_formula(ws, f"B{r}", "=Basic_Shares+RSUs", st.SHARES)
    if not refs.options:
        diluted_row, price_row = r + 1, r + 2
        st.put_formula(ws, f"B{diluted_row}", f"=B{r}", st.SHARES)
        st.put_formula(ws, f"B{price_row}", f"=B37/B{r}", st.PER_SHARE)
    else:
        diluted_row, price_row = _write_tranches(ws, refs, r)
    st.label(ws, f"A{diluted_row}", "Diluted shares")
    st.label(ws, f"A{price_row}", "Value per share", bold=True)
    ws[f"B{price_row}"].font = st.BOLD
    ws[f"B{price_row}"].border = st.TOTAL_BORDER
    check = price_row + 1
    st.label(ws, f"A{check}", "Check: value per share × diluted shares − equity (≈ 0)")
    st.put_formula(ws, f"B{check}", f"=B{price_row}*B{diluted_row}-B37", st.MONEY)
    ws[f"A{check + 2}"] = TSM_NOTE
    ws[f"A{check + 2}"].alignment = st.WRAP
    ws.merge_cells(f"A{check + 2}:F{check + 2}")
    ws.row_dimensions[check + 2].height = 75
    return _abs(diluted_row), _abs(price_row)


def _write_tranches(ws: Worksheet, refs: InputRefs, base_row: int) -> tuple[int, int]:
    header = base_row + 1
    st.header_row(
        ws, header, ["Option tranche", "Count", "Strike", "Equity above which in the money",
                     "In the money (1 = yes)"],
    )  # fmt: skip
    first = header + 1
    rows = range(first, first + len(refs.options))
    for i, (row, option) in enumerate(zip(rows, refs.options, strict=True), start=1):
        ws[f"A{row}"] = f"Tranche {i}"
        st.put_formula(ws, f"B{row}", f"={option.count_ref}", st.SHARES, link=True)
        st.put_formula(ws, f"C{row}", f"={option.strike_ref}", st.PER_SHARE, link=True)
        others = "".join(f"+$B${j}*MAX(0,C{row}-$C${j})" for j in rows)
        st.put_formula(ws, f"D{row}", f"=$B${base_row}*C{row}{others}", st.MONEY)
        st.put_formula(ws, f"E{row}", f"=IF(D{row}<$B$37,1,0)", "0")
    end = rows[-1]
    itm_n = f"SUMPRODUCT(E{first}:E{end},B{first}:B{end})"
    itm_nk = f"SUMPRODUCT(E{first}:E{end},B{first}:B{end},C{first}:C{end})"
    if first == end:  # one tranche: a plain product reads better than a 1-cell SUMPRODUCT
        itm_n, itm_nk = f"E{first}*B{first}", f"E{first}*B{first}*C{first}"
    diluted_row, price_row = end + 1, end + 2
    st.put_formula(ws, f"B{price_row}", f"=(B37+{itm_nk})/(B{base_row}+{itm_n})", st.PER_SHARE)
    st.put_formula(
        ws,
        f"B{diluted_row}",
        f"=B{base_row}+{itm_n}-IF({itm_nk}=0,0,{itm_nk}/B{price_row})",
        st.SHARES,
    )
    st.note(ws, f"B{price_row}", TSM_NOTE)
    st.widths(ws, D=22, E=16)
    return diluted_row, price_row
