"""How the exported workbooks look: the banker's colour code and number formats.

Blue font = an input a reviewer may change; black = a formula; green = a link to another
sheet's figure (the usual model-audit convention). Money formats carry no currency symbol:
every sheet states its currency next to the figures.
"""

from __future__ import annotations

from typing import Any

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

INPUT_FONT = Font(color="0000FF")
FORMULA_FONT = Font(color="000000")
LINK_FONT = Font(color="008000")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
STATIC_FILL = PatternFill("solid", fgColor="EDEDED")
TOTAL_BORDER = Border(top=Side(style="thin"))
WRAP = Alignment(wrap_text=True, vertical="top")

MONEY = "#,##0.00_);(#,##0.00)"
PER_SHARE = "#,##0.00_);(#,##0.00)"
SHARES = "#,##0.00"
PERCENT = "0.00%"
MULTIPLE = '0.00"x"'
FACTOR = "0.000000"
PERIOD = "0.0"
YEAR = "0"


def label(ws: Worksheet, ref: str, text: str, *, bold: bool = False) -> None:
    ws[ref] = text
    if bold:
        ws[ref].font = BOLD


def put_input(ws: Worksheet, ref: str, value: Any, fmt: str | None = None) -> None:
    """A driver: blue on light yellow, so nobody mistakes it for a computed figure."""
    cell = ws[ref]
    cell.value = value
    cell.font = INPUT_FONT
    cell.fill = INPUT_FILL
    if fmt:
        cell.number_format = fmt


def put_formula(
    ws: Worksheet, ref: str, formula: str, fmt: str | None = None, *, link: bool = False
) -> None:
    """A computed cell; ``formula`` starts with ``=``. ``link`` marks a plain reference to
    another sheet (green)."""
    assert formula.startswith("="), formula
    cell = ws[ref]
    cell.value = formula
    cell.font = LINK_FONT if link else FORMULA_FONT
    if fmt:
        cell.number_format = fmt


def put_static(ws: Worksheet, ref: str, value: Any, fmt: str | None = None) -> None:
    """A value computed by the engine and pasted in (not live): grey, so it reads as such."""
    cell = ws[ref]
    cell.value = value
    cell.fill = STATIC_FILL
    if fmt:
        cell.number_format = fmt


def note(ws: Worksheet, ref: str, text: str) -> None:
    """A cell comment explaining a formula or a convention."""
    ws[ref].comment = Comment(text, "NovaCron")


def header_row(ws: Worksheet, row: int, titles: list[str], first_col: int = 1) -> None:
    for i, title in enumerate(titles):
        cell = ws.cell(row=row, column=first_col + i, value=title)
        cell.font = BOLD
        cell.fill = HEADER_FILL


def widths(ws: Worksheet, **by_column: float) -> None:
    for column, width in by_column.items():
        ws.column_dimensions[column].width = width
