"""Drivers, sensitivity tables and scenarios."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.finance.dcf import DCFInputs, DilutedShares, dcf
from novacron.corporate.finance.sensitivity import (
    DRIVERS,
    driver_value,
    scenarios,
    sensitivity,
    with_drivers,
)
from novacron.corporate.finance.terminal import ExitMultiple, GordonGrowth


def model(terminal: GordonGrowth | ExitMultiple | None = None) -> DCFInputs:
    return DCFInputs(
        currency="GBP",
        base_revenue=500.0,
        revenue_growth=(0.12, 0.10, 0.08, 0.06, 0.04),
        ebitda_margin=(0.20, 0.21, 0.22, 0.23, 0.24),
        da_pct_revenue=0.03,
        capex_pct_revenue=0.04,
        nwc_pct_revenue=0.10,
        tax_rate=0.25,
        wacc=0.09,
        terminal=terminal or GordonGrowth(0.025),
        mid_year=True,
        net_debt=150.0,
        shares=DilutedShares(50.0, options=((4.0, 10.0), (3.0, 40.0)), rsus=1.0),
    )


# ------------------------------------------------------------------ drivers


def test_driver_values() -> None:
    m = model()
    assert driver_value(m, "wacc") == 0.09
    assert driver_value(m, "terminal_growth") == 0.025
    assert driver_value(m, "ebitda_margin") == 0.20
    assert driver_value(m, "revenue_growth") == 0.12
    assert driver_value(model(ExitMultiple(9.0)), "exit_multiple") == 9.0


def test_path_drivers_shift_every_year() -> None:
    moved = with_drivers(model(), ebitda_margin=0.25, revenue_growth=0.10)
    assert moved.ebitda_margin == pytest.approx((0.25, 0.26, 0.27, 0.28, 0.29))
    assert moved.ebitda_margin[0] == 0.25  # type: ignore[index]  # exactly the value set
    assert moved.revenue_growth == pytest.approx((0.10, 0.08, 0.06, 0.04, 0.02))
    flat = with_drivers(with_drivers(model(), tax_rate=0.3), ebitda_margin=0.3)
    assert flat.tax_rate == 0.3


def test_unknown_and_inapplicable_drivers_are_named() -> None:
    with pytest.raises(Invalid) as exc:
        with_drivers(model(), discount=0.1)
    assert exc.value.errors[0]["loc"] == ["drivers", "discount"]
    assert "unknown driver 'discount'" in exc.value.detail
    with pytest.raises(Invalid) as exc:
        with_drivers(model(), exit_multiple=8.0)
    assert exc.value.errors[0]["loc"] == ["drivers", "exit_multiple"]
    with pytest.raises(Invalid) as exc:
        with_drivers(model(), wacc="high")  # type: ignore[arg-type]
    assert exc.value.errors[0]["loc"] == ["drivers", "wacc"]


def test_every_driver_moves_the_model() -> None:
    for name, d in DRIVERS.items():
        m = model(ExitMultiple(9.0) if name == "exit_multiple" else None)
        moved = with_drivers(m, **{name: d.get(m) + 0.01})
        assert driver_value(moved, name) == pytest.approx(d.get(m) + 0.01)
        assert dcf(moved).value_per_share != dcf(m).value_per_share, name


# ------------------------------------------------------------------ sensitivity


def test_centre_cell_equals_the_base_dcf() -> None:
    m = model()
    table = sensitivity(
        m, row=("wacc", [0.08, 0.09, 0.10]), col=("terminal_growth", [0.02, 0.025, 0.03])
    )
    base = dcf(m).value_per_share
    assert table.cells[1][1] == base
    assert table.base_value == base
    assert table.currency == "GBP" and table.metric == "value_per_share"
    # value falls with WACC and rises with growth
    for j in range(3):
        column = [table.cells[i][j] for i in range(3)]
        assert column == sorted(column, reverse=True)  # type: ignore[type-var]
    for row in table.cells:
        assert list(row) == sorted(row)  # type: ignore[type-var]


@given(st.sampled_from(["enterprise_value", "equity_value", "value_per_share"]),
       st.sampled_from(sorted(set(DRIVERS) - {"exit_multiple", "wacc"})))  # fmt: skip
def test_centre_cell_property(metric: str, col: str) -> None:
    m = model()
    c = driver_value(m, col)
    table = sensitivity(m, row=("wacc", [0.085, 0.09, 0.095]), col=(col, [c - 0.01, c, c + 0.01]),
                        metric=metric)  # fmt: skip
    assert table.cells[1][1] == dcf(m).metric(metric)


def test_invalid_cells_hold_none_and_the_reason() -> None:
    table = sensitivity(model(), row=("wacc", [0.02, 0.09]), col=("terminal_growth", [0.02, 0.03]))
    assert table.cells[0] == (None, None)
    assert all("WACC must exceed the terminal growth rate" in r for r in table.reasons[0])  # type: ignore[operator]
    assert all(v is not None for v in table.cells[1])
    assert table.reasons[1] == (None, None)


def test_exit_multiple_grid_by_enterprise_value() -> None:
    m = model(ExitMultiple(9.0))
    table = sensitivity(
        m, ("exit_multiple", [8.0, 9.0, 10.0]), ("ebitda_margin", [0.18, 0.2]),
        metric="enterprise_value",
    )  # fmt: skip
    assert table.cells[1][1] == dcf(m).enterprise_value
    # EV is linear in the multiple: equal steps
    a, b, c = (table.cells[i][0] for i in range(3))
    assert b - a == pytest.approx(c - b)  # type: ignore[operator]


# Regression: a bad driver name is refused at the field that holds it, row.driver /
# col.driver (it was ["row", "speed"], a path that exists in no input).
@pytest.mark.parametrize(
    ("row", "col", "metric", "loc"),
    [
        (("speed", [1.0]), ("wacc", [0.1]), "value_per_share", ["row", "driver"]),
        (("wacc", [0.1]), ("exit_multiple", [8.0]), "value_per_share", ["col", "driver"]),
        (("wacc", [0.1]), ("wacc", [0.1]), "value_per_share", ["col", "driver"]),
        (("wacc", []), ("tax_rate", [0.1]), "value_per_share", ["row", "values"]),
        (("wacc", [0.1, float("inf")]), ("tax_rate", [0.1]), "value_per_share",
         ["row", "values", 1]),
        (("wacc", [0.1]), ("tax_rate", [0.1]), "ebit", ["metric"]),
    ],
)  # fmt: skip
def test_sensitivity_refusals(
    row: tuple[str, list[float]], col: tuple[str, list[float]], metric: str, loc: list[object]
) -> None:
    with pytest.raises(Invalid) as exc:
        sensitivity(model(), row, col, metric)
    assert exc.value.errors[0]["loc"] == loc


# ------------------------------------------------------------------ scenarios


def test_scenarios_and_probability_weighting() -> None:
    m = model()
    result = scenarios(
        m,
        {
            "bear": {"revenue_growth": 0.05, "ebitda_margin": 0.17, "wacc": 0.10},
            "base": {},
            "bull": {"revenue_growth": 0.18, "ebitda_margin": 0.23},
        },
        probabilities={"bear": 0.25, "base": 0.5, "bull": 0.25},
    )
    bear, base, bull = (result.get(n).value_per_share for n in ("bear", "base", "bull"))
    assert base == dcf(m).value_per_share
    assert bear < base < bull
    assert result.weighted is not None
    assert result.weighted["value_per_share"] == pytest.approx(
        0.25 * bear + 0.5 * base + 0.25 * bull
    )
    ev = [result.get(n).enterprise_value for n in ("bear", "base", "bull")]
    assert result.weighted["enterprise_value"] == pytest.approx(
        0.25 * ev[0] + 0.5 * ev[1] + 0.25 * ev[2]
    )
    assert result.get("bear").drivers == (
        ("revenue_growth", 0.05),
        ("ebitda_margin", 0.17),
        ("wacc", 0.10),
    )
    assert result.currency == "GBP"


def test_scenarios_without_probabilities_and_custom_names() -> None:
    result = scenarios(model(), {"base": {}, "downside-2027": {"tax_rate": 0.35}})
    assert result.weighted is None
    assert [o.name for o in result.scenarios] == ["base", "downside-2027"]
    assert result.get("downside-2027").probability is None
    assert result.get("downside-2027").equity_value < result.get("base").equity_value


def test_scenario_refusals() -> None:
    with pytest.raises(Invalid) as exc:
        scenarios(model(), {"bull": {}})
    assert exc.value.errors[0]["loc"] == ["scenarios", "base"]
    with pytest.raises(Invalid) as exc:
        scenarios(model(), {"base": {}, "bear": {"terminal_growth": 0.12}})
    assert exc.value.errors[0]["loc"] == ["scenarios", "bear", "terminal", "growth"]
    assert "WACC must exceed" in exc.value.detail
    with pytest.raises(Invalid) as exc:
        scenarios(model(), {"base": {}, "bear": {"beta": 1.0}})
    # regression: the loc is the override's own path (was scenarios.bear.drivers.beta,
    # a field that does not exist in the inputs)
    assert exc.value.errors[0]["loc"] == ["scenarios", "bear", "beta"]
    with pytest.raises(Invalid) as exc:
        scenarios(model(), {"base": {}, "bear": {}}, probabilities={"base": 0.5, "bear": 0.4})
    assert exc.value.errors[0]["loc"] == ["probabilities"]
    with pytest.raises(Invalid) as exc:
        scenarios(model(), {"base": {}, "bear": {}}, probabilities={"base": 1.0, "bull": 0.0})
    assert [e["loc"] for e in exc.value.errors] == [
        ["probabilities", "bear"],
        ["probabilities", "bull"],
    ]
