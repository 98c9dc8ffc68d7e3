"""The DCF workbook: formulas evaluated by a formula engine (pycel) equal the finance
engine's ``dcf()`` to 1e-6 relative, for both terminal methods and both timing conventions;
changing an input cell moves the outputs like the engine; the DCF sheet holds formulas."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from openpyxl import Workbook, load_workbook

from novacron.core.errors import Invalid
from novacron.corporate.export.xlsx import (
    STATIC_LABEL,
    ExportMeta,
    dcf_workbook,
    dcf_xlsx,
    sensitivity_axes,
)
from novacron.corporate.finance.dcf import DCFInputs, DilutedShares, dcf
from novacron.corporate.finance.sensitivity import sensitivity
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth

pycel = pytest.importorskip("pycel")

META = ExportMeta(exported_at=datetime(2025, 3, 1, 12, 0), target="Acme Storage", version=3)
REL = 1e-6


def model(**changes: Any) -> DCFInputs:
    base = DCFInputs(
        currency="EUR",
        base_revenue=1_000.0,
        revenue_growth=(0.12, 0.10, 0.08, 0.06, 0.04),
        ebitda_margin=0.24,
        da_pct_revenue=0.04,
        capex_pct_revenue=0.05,
        nwc_pct_revenue=0.10,
        tax_rate=0.25,
        wacc=0.09,
        terminal=GordonGrowth(0.025),
        mid_year=True,
        net_debt=300.0,
        shares=DilutedShares(
            basic=100.0, options=((10.0, 15.0), (5.0, 40.0), (3.0, 1_000.0)), rsus=2.0
        ),
        minority_interest=10.0,
        preferred_equity=5.0,
        non_operating_assets=20.0,
    )
    return dataclasses.replace(base, **changes)


def compile_workbook(wb: Workbook, tmp_path: Path) -> Any:
    """A pycel compiler over the saved workbook. pycel 1.0b30 reads defined names through
    the openpyxl < 3.1 API (``defined_names.definedName``): hand it them directly."""
    path = tmp_path / "model.xlsx"
    wb.save(path)
    xl = pycel.ExcelCompiler(filename=str(path))
    book = xl.excel.workbook
    xl.excel._defined_names = {
        str(d.name): [(alias, sheet) for sheet, alias in d.destinations if sheet in book]
        for d in book.defined_names.values()
    }
    return xl


def row_of(wb: Workbook, sheet: str, label: str) -> int:
    for (cell,) in wb[sheet].iter_rows(min_col=1, max_col=1):
        if cell.value == label:
            return int(cell.row)
    raise AssertionError(f"no row {label!r} on {sheet}")


def outputs(xl: Any, wb: Workbook) -> dict[str, float]:
    price = row_of(wb, "DCF", "Value per share")
    diluted = row_of(wb, "DCF", "Diluted shares")
    return {
        "enterprise_value": xl.evaluate("DCF!B27"),
        "equity_value": xl.evaluate("DCF!B37"),
        "terminal_value": xl.evaluate("DCF!B23"),
        "pv_terminal_value": xl.evaluate("DCF!B26"),
        "sum_pv_fcff": xl.evaluate("DCF!B22"),
        "value_per_share": xl.evaluate(f"DCF!B{price}"),
        "diluted_shares": xl.evaluate(f"DCF!B{diluted}"),
    }


def assert_matches(got: dict[str, float], inputs: DCFInputs) -> None:
    want = dcf(inputs)
    for key, value in got.items():
        assert value == pytest.approx(getattr(want, key), rel=REL), key


@pytest.mark.parametrize("terminal", [GordonGrowth(0.025), ExitMultiple(9.5)], ids=repr)
@pytest.mark.parametrize("mid_year", [True, False])
def test_evaluated_workbook_equals_the_engine(
    tmp_path: Path, terminal: Any, mid_year: bool
) -> None:
    inputs = model(terminal=terminal, mid_year=mid_year)
    wb = dcf_workbook(inputs, META)
    xl = compile_workbook(wb, tmp_path)
    got = outputs(xl, wb)
    assert_matches(got, inputs)
    # the year rows too, line by line
    want = dcf(inputs)
    for year, row in enumerate(want.rows, start=1):
        col = "CDEFG"[year - 1]
        assert xl.evaluate(f"DCF!{col}16") == pytest.approx(row.fcff, rel=REL)
        assert xl.evaluate(f"DCF!{col}17") == pytest.approx(row.discount_period)
        assert xl.evaluate(f"DCF!{col}18") == pytest.approx(row.discount_factor, rel=REL)
    # value per share is about 23-24: the tranche struck at 15 is in, those at 40 and 1,000 out
    first = row_of(wb, "DCF", "Tranche 1")
    assert [xl.evaluate(f"DCF!E{first + i}") for i in range(3)] == [1, 0, 0]


def test_changing_input_cells_recomputes_like_the_engine(tmp_path: Path) -> None:
    """The workbook is live: WACC, growth, the mid-year switch and a year's margin typed
    into the Inputs sheet give what the engine gives for the same change."""
    inputs = model(ebitda_margin=(0.20, 0.22, 0.24, 0.25, 0.26))
    wb = dcf_workbook(inputs, META)
    xl = compile_workbook(wb, tmp_path)
    assert_matches(outputs(xl, wb), inputs)
    xl.set_value("Inputs!B11", 0.1)  # WACC
    xl.set_value("Inputs!B14", 0.03)  # terminal growth
    xl.set_value("Inputs!B12", False)  # mid-year off
    xl.set_value("Inputs!E25", 0.30)  # year-3 margin
    changed = dataclasses.replace(
        inputs,
        wacc=0.1,
        terminal=GordonGrowth(0.03),
        mid_year=False,
        ebitda_margin=(0.20, 0.22, 0.30, 0.25, 0.26),
    )
    assert_matches(outputs(xl, wb), changed)


def test_flat_margin_is_one_input_cell_that_every_year_follows(tmp_path: Path) -> None:
    inputs = model(terminal=ExitMultiple(8.0))
    wb = dcf_workbook(inputs, META)
    assert wb["Inputs"]["D25"].value == "=C25"
    xl = compile_workbook(wb, tmp_path)
    assert_matches(outputs(xl, wb), inputs)  # pycel sets only cells it has evaluated
    xl.set_value("Inputs!C25", 0.3)
    assert_matches(outputs(xl, wb), dataclasses.replace(inputs, ebitda_margin=0.3))


def test_no_options_and_negative_equity(tmp_path: Path) -> None:
    """Without options the price is equity / (basic + RSUs); with net debt above EV the
    equity is negative and every option stays out of the money, as in the engine."""
    plain = model(shares=DilutedShares(basic=50.0, rsus=1.5))
    wb = dcf_workbook(plain, META)
    assert_matches(outputs(compile_workbook(wb, tmp_path), wb), plain)
    broke = model(net_debt=10_000.0)
    assert dcf(broke).equity_value < 0
    wb = dcf_workbook(broke, META)
    got = outputs(compile_workbook(wb, tmp_path), wb)
    assert_matches(got, broke)
    assert got["diluted_shares"] == pytest.approx(102.0)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    growth=hs.lists(hs.floats(-0.2, 0.4), min_size=1, max_size=8),
    margin=hs.floats(-0.1, 0.6),
    wacc=hs.floats(0.05, 0.2),
    g=hs.floats(-0.02, 0.04),
    multiple=hs.floats(2.0, 20.0),
    gordon=hs.booleans(),
    mid_year=hs.booleans(),
    strikes=hs.lists(hs.floats(0.0, 80.0), max_size=4),
)
def test_property_workbook_equals_engine(
    tmp_path: Path,
    growth: list[float],
    margin: float,
    wacc: float,
    g: float,
    multiple: float,
    gordon: bool,
    mid_year: bool,
    strikes: list[float],
) -> None:
    inputs = model(
        revenue_growth=tuple(growth),
        ebitda_margin=margin,
        wacc=wacc,
        terminal=GordonGrowth(g) if gordon else ExitMultiple(multiple),
        mid_year=mid_year,
        shares=DilutedShares(basic=80.0, options=tuple((4.0, k) for k in strikes)),
    )
    wb = dcf_workbook(inputs, META)
    got = outputs(compile_workbook(wb, tmp_path), wb)
    want = dcf(inputs)
    for key, value in got.items():
        assert value == pytest.approx(getattr(want, key), rel=REL, abs=1e-9), key


def test_dcf_sheet_holds_formulas_not_values() -> None:
    data = dcf_xlsx(model(), META)
    wb = load_workbook(io.BytesIO(data))  # formulas, not cached values
    dcf_sheet = wb["DCF"]
    for row in range(5, 20):
        for col in "CDEFG":
            value = dcf_sheet[f"{col}{row}"].value
            assert isinstance(value, str) and value.startswith("="), (col, row, value)
    assert dcf_sheet["C6"].value == "=B6*(1+C5)"
    assert dcf_sheet["C12"].value == "=C10-C11"
    assert dcf_sheet["C17"].value == "=IF(Mid_Year,C4-0.5,C4)"
    assert dcf_sheet["B23"].value == "=G16*(1+Terminal_Growth)/(WACC-Terminal_Growth)"
    for row in (22, 23, 24, 25, 26, 27, 33, 37):
        assert str(dcf_sheet[f"B{row}"].value).startswith("="), row
    exit_wb = load_workbook(io.BytesIO(dcf_xlsx(model(terminal=ExitMultiple(9.0)), META)))
    assert exit_wb["DCF"]["B23"].value == "=G8*Exit_Multiple"
    assert exit_wb["DCF"]["B24"].value == "=G4"


def test_inputs_are_named_blue_and_formatted() -> None:
    wb = load_workbook(io.BytesIO(dcf_xlsx(model(), META)))
    names = {name: dn.attr_text for name, dn in wb.defined_names.items()}
    assert names["WACC"] == "'Inputs'!$B$11"
    assert names["Tax_Rate"] == "'Inputs'!$B$10"
    assert names["Terminal_Growth"] == "'Inputs'!$B$14"
    inputs = wb["Inputs"]
    assert inputs["B11"].value == 0.09
    assert inputs["B11"].font.color.rgb.endswith("0000FF")
    assert inputs["B11"].number_format == "0.00%"
    assert inputs["C6"].value == "EUR"  # the unit of base revenue
    assert inputs["B12"].value is True
    assert [inputs[f"{c}24"].value for c in "CDEFG"] == [0.12, 0.10, 0.08, 0.06, 0.04]
    assert wb["DCF"]["B27"].number_format == "#,##0.00_);(#,##0.00)"
    assert wb.sheetnames == ["Summary", "Inputs", "DCF", "Sensitivity"]


def test_summary_shows_live_links_beside_the_engine_values() -> None:
    inputs = model()
    wb = load_workbook(io.BytesIO(dcf_xlsx(inputs, META)))
    summary = wb["Summary"]
    cells = {summary[f"A{r}"].value: r for r in range(1, summary.max_row + 1)}
    assert summary[f"B{cells['Target']}"].value == "Acme Storage"
    assert summary[f"B{cells['Valuation version']}"].value == "v3"
    assert summary[f"B{cells['Currency']}"].value == "EUR"
    assert summary[f"B{cells['Exported (UTC)']}"].value == "2025-03-01 12:00"
    ev = cells["Enterprise value"]
    assert summary[f"B{ev}"].value == "=DCF!$B$27"
    assert summary[f"C{ev}"].value == pytest.approx(dcf(inputs).enterprise_value)
    assert summary[f"D{ev}"].value == f"=B{ev}-C{ev}"
    warnings = [
        summary[f"A{r}"].value for r in range(cells["Engine warnings"] + 1, summary.max_row + 1)
    ]
    assert warnings == [f"• {w}" for w in dcf(inputs).warnings]


def test_sensitivity_grid_is_labelled_static_and_matches_the_engine() -> None:
    inputs = model()
    wb = load_workbook(io.BytesIO(dcf_xlsx(inputs, META)))
    sheet = wb["Sensitivity"]
    assert sheet["A2"].value == STATIC_LABEL
    (row_name, waccs), (col_name, growths) = sensitivity_axes(inputs)
    assert (row_name, col_name) == ("wacc", "terminal_growth")
    assert waccs == pytest.approx((0.08, 0.085, 0.09, 0.095, 0.10))
    table = sensitivity(inputs, ("wacc", waccs), ("terminal_growth", growths))
    assert [sheet.cell(row=5, column=2 + j).value for j in range(5)] == list(growths)
    for i in range(5):
        for j in range(5):
            assert sheet.cell(row=6 + i, column=2 + j).value == pytest.approx(table.cells[i][j])
    assert sheet["D8"].value == pytest.approx(dcf(inputs).value_per_share)  # the model's case
    assert sheet["D8"].font.bold


def test_sensitivity_marks_invalid_cells() -> None:
    """WACC 3.5% against g up to 4%: the Gordon corner is n/a with the engine's reason."""
    inputs = model(wacc=0.045, terminal=GordonGrowth(0.03))
    sheet = load_workbook(io.BytesIO(dcf_xlsx(inputs, META)))["Sensitivity"]
    assert sheet["F6"].value == "n/a"  # WACC 3.5% × g 4%
    assert "WACC must exceed" in sheet["F6"].comment.text
    _, (_, multiples) = sensitivity_axes(model(terminal=ExitMultiple(1.5)))
    assert multiples == (0.5, 1.5, 2.5, 3.5)


def test_inconsistent_model_is_refused_naming_the_field() -> None:
    with pytest.raises(Invalid) as err:
        dcf_xlsx(model(wacc=0.02, terminal=GordonGrowth(0.03)), META)
    assert err.value.errors[0]["loc"] == ["terminal", "growth"]
