"""Scorecards and the risk matrix (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.core.errors import Invalid
from novacron.corporate.ma.scoring import (
    CriterionScore,
    heat_map,
    risk_rating,
    risk_score,
    score,
)


def test_a_weighted_score_with_its_explanation() -> None:
    result = score(
        [
            CriterionScore("market", 0.5, 8),
            CriterionScore("team", 0.3, 4),
            CriterionScore("tech", 0.2, 10),
        ]
    )
    # 0.5*80 + 0.3*40 + 0.2*100 = 40 + 12 + 20
    assert result.total == pytest.approx(72.0)
    assert [c.name for c in result.contributions] == ["market", "tech", "team"]
    assert [round(c.points, 9) for c in result.contributions] == [40.0, 20.0, 12.0]
    assert result.summary.startswith("Scores 72.0/100. Strongest: market (8/10, 40.0 points)")
    assert "weakest: team (4/10, 12.0 points)" in result.summary
    # market left 10 points on the table, team 18: the most lost is the weakest here.
    assert "most points lost" not in result.summary
    explained = result.explanation()
    assert explained["contributions"][0] == {
        "name": "market",
        "weight": 0.5,
        "score": 8,
        "points": 40.0,
    }


def test_the_most_points_lost_can_differ_from_the_weakest() -> None:
    result = score([CriterionScore("a", 0.9, 50), CriterionScore("b", 0.1, 0)], scale=100)
    assert result.total == pytest.approx(45.0)
    assert "weakest: b" in result.summary and "most points lost on a (45.0)" in result.summary


def test_scale_100_and_a_single_criterion() -> None:
    assert score([CriterionScore("only", 1.0, 65)], scale=100).total == pytest.approx(65.0)
    assert score([CriterionScore("only", 1.0, 10)]).summary == (
        "Scores 100.0/100. Strongest: only (10/10, 100.0 points)."
    )


def test_weights_must_sum_to_one_and_the_error_gives_the_sum() -> None:
    with pytest.raises(Invalid) as err:
        score([CriterionScore("a", 0.5, 5), CriterionScore("b", 0.4, 5)])
    assert err.value.errors == [{"loc": ["criteria"], "msg": "weights sum to 0.9, must sum to 1"}]
    assert "sum to 0.9" in err.value.detail
    # Within 1e-9 is fine (0.1 * 10 in floats).
    assert score([CriterionScore(str(i), 0.1, 5) for i in range(10)]).total == pytest.approx(50)


def test_each_bad_field_is_named() -> None:
    with pytest.raises(Invalid) as err:
        score(
            [
                CriterionScore("a", -0.1, 5),
                CriterionScore("a", 0.6, 11),
                CriterionScore(" ", 0.5, float("nan")),
            ]
        )
    locs = [e["loc"] for e in err.value.errors]
    assert locs == [
        ["criteria", 0, "weight"],
        ["criteria", 1, "name"],
        ["criteria", 1, "score"],
        ["criteria", 2, "name"],
        ["criteria", 2, "score"],
    ]
    with pytest.raises(Invalid) as err:
        score([], 10)
    assert err.value.errors[0]["loc"] == ["criteria"]
    with pytest.raises(Invalid) as err:
        score([CriterionScore("a", 1, 5)], scale=5)
    assert err.value.errors[0]["loc"] == ["scale"]


@given(
    st.lists(st.integers(1, 1000), min_size=1, max_size=8),
    st.data(),
)
def test_total_is_the_sum_of_contributions_and_within_0_100(
    raw: list[int], data: st.DataObject
) -> None:
    total_weight = sum(raw)
    scores = [data.draw(st.floats(0, 10)) for _ in raw]
    criteria = [
        CriterionScore(f"c{i}", w / total_weight, s)
        for i, (w, s) in enumerate(zip(raw, scores, strict=True))
    ]
    weights = sum(c.weight for c in criteria)
    if abs(weights - 1) > 1e-9:
        return
    result = score(criteria)
    assert 0 <= result.total <= 100
    assert result.total == pytest.approx(sum(c.points for c in result.contributions), abs=1e-6)
    points = [c.points for c in result.contributions]
    assert points == sorted(points, reverse=True)


@pytest.mark.parametrize(
    ("severity", "likelihood", "expected_score", "rating"),
    [
        (1, 1, 1, "low"),
        (2, 2, 4, "low"),
        (1, 5, 5, "medium"),
        (3, 3, 9, "medium"),
        (2, 5, 10, "high"),
        (4, 4, 16, "high"),
        (4, 5, 20, "critical"),
        (5, 5, 25, "critical"),
    ],
)
def test_risk_score_and_rating(
    severity: int, likelihood: int, expected_score: int, rating: str
) -> None:
    assert risk_score(severity, likelihood) == expected_score
    assert risk_rating(expected_score) == rating


def test_risk_inputs_out_of_range_name_the_field() -> None:
    with pytest.raises(Invalid) as err:
        risk_score(0, 3)
    assert err.value.errors[0]["loc"] == ["severity"]
    with pytest.raises(Invalid) as err:
        risk_score(3, 6)
    assert err.value.errors[0]["loc"] == ["likelihood"]


def test_heat_map_puts_the_worst_top_right() -> None:
    grid = heat_map([(5, 5), (5, 5), (1, 1), (3, 2)])
    assert grid[0][4] == 2  # severity 5, likelihood 5
    assert grid[4][0] == 1  # severity 1, likelihood 1
    assert grid[2][1] == 1  # severity 3, likelihood 2
    assert sum(map(sum, grid)) == 4


def test_total_and_explanation_print_the_same_figure() -> None:
    # 24 + 20.75 + 14.4 + 12 + 7.5 = 80.45, which fsum leaves at 80.4499…: unrounded, the
    # sentence said 80.4 while the page showed the stored total as 80.5.
    result = score(
        [
            CriterionScore("Strategic fit", 0.3, 8.6),
            CriterionScore("Technology", 0.25, 8.3),
            CriterionScore("Financial profile", 0.2, 7.2),
            CriterionScore("Team", 0.15, 8),
            CriterionScore("Integration risk", 0.1, 7.5),
        ]
    )
    assert f"{result.total:.1f}" == "80.5"
    assert result.summary.startswith("Scores 80.5/100.")
