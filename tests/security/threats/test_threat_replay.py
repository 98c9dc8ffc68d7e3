"""The labelled corpus and its replay: the default corpus meets the issue's targets
(>= 95 % detection, < 5 % false positives), and the benign half is hard enough that
lower thresholds would flood it with false positives."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from novacron.core.errors import Invalid
from novacron.security.threats import (
    ATTACK_VARIANTS,
    BENIGN_VARIANTS,
    FAMILIES,
    ReplayResult,
    Scenario,
    builtin_rules_dir,
    generate_corpus,
    parse_rules,
    replay,
)
from novacron.security.threats.replay import percentile, score


@pytest.fixture(scope="module")
def corpus() -> list[Scenario]:
    return generate_corpus()


@pytest.fixture(scope="module")
def result(corpus: list[Scenario]) -> ReplayResult:
    return replay(corpus)


def test_default_corpus_meets_the_targets(result: ReplayResult) -> None:
    assert (result.attacks, result.benign) == (90, 90)
    assert result.detection_rate >= 0.95, result.missed
    assert result.false_positive_rate < 0.05, result.false_positive_ids
    assert result.detected == round(result.detection_rate * 90)
    assert result.pre_attack_detections == 0
    assert set(result.families) == set(FAMILIES)
    for family in result.families.values():
        assert family.scenarios == 15
        assert family.detection_rate >= 0.9, (family.family, family.missed)


def test_time_to_detect_reflects_each_rule_kind(result: ReplayResult) -> None:
    fam = result.families
    # Single-event rules detect on the attack's first event.
    for name in ("token_misuse", "vm_escape"):
        assert fam[name].ttd_median_s == 0.0 and fam[name].ttd_p95_s == 0.0
    # Threshold rules need their count: the slow variants take most of the window.
    for name, window in (("brute_force", 600), ("mass_deletion", 600)):
        median, p95 = fam[name].ttd_median_s, fam[name].ttd_p95_s
        assert median is not None and p95 is not None
        assert 0 < median <= p95 <= window
    # The volume rule fires within the first minute or two of a spike.
    p95 = fam["api_volume"].ttd_p95_s
    assert p95 is not None and 0 < p95 <= 180
    assert result.ttd_median_s is not None and result.ttd_p95_s is not None
    assert result.ttd_median_s <= result.ttd_p95_s


def test_the_benign_set_sits_near_the_thresholds(
    corpus: list[Scenario], result: ReplayResult
) -> None:
    """Lower every count threshold by about a third and the benign scenarios light up: the
    near misses are near, so the < 5 % above is a measurement, not a given."""
    lowered = {
        "threshold: 10": "threshold: 7",
        "threshold: 20": "threshold: 14",
        "threshold: 8": "threshold: 6",
        "floor: 100": "floor: 70",
    }
    rules = []
    for path in sorted(builtin_rules_dir().glob("*.yaml")):
        text = path.read_text()
        for old, new in lowered.items():
            text = text.replace(old, new)
        rules += parse_rules(text, source=path.name, family=path.stem)
    near = {"forgot_password", "stale_script", "office_nat", "busy_user", "bulk_cleanup"}
    benign = [s for s in corpus if s.variant in near]
    shipped = [o.detected for o in result.outcomes if o.variant in near]
    assert sum(shipped) / len(shipped) < 0.1  # with the shipped thresholds
    strict = replay(benign, rules)
    assert strict.false_positive_rate > 0.3, strict.benign_variants
    hit = {v for v, c in strict.benign_variants.items() if c["false_positives"]}
    assert {"forgot_password", "office_nat", "busy_user", "bulk_cleanup"} <= hit


def test_corpus_covers_every_variant_with_ground_truth(corpus: list[Scenario]) -> None:
    attacks = [s for s in corpus if s.label != "benign"]
    assert {(s.label, s.variant) for s in attacks} == {
        (f, v) for f, variants in ATTACK_VARIANTS.items() for v in variants
    }
    assert {s.variant for s in corpus if s.label == "benign"} == set(BENIGN_VARIANTS)
    for s in corpus:
        times = [e.ts for e in s.events]
        assert times == sorted(times) and len(s.events) > 300  # attacks inside real traffic
        if s.label == "benign":
            assert s.attack_start is None
        else:
            assert s.attack_start is not None and s.attack_start in times
            # Mixed in: ordinary traffic before and after the attack.
            assert times[0] < s.attack_start - timedelta(hours=12)
            assert any(t > s.attack_start for t in times)


def test_corpus_is_seeded_and_stable_under_growth() -> None:
    small = generate_corpus(seed=3, scenarios=4)
    again = generate_corpus(seed=3, scenarios=4)
    larger = generate_corpus(seed=3, scenarios=6)
    other = generate_corpus(seed=4, scenarios=4)
    assert [s.events for s in small] == [s.events for s in again]
    assert small[0].events == larger[0].events  # attack-0000 does not depend on N
    assert small[0].events != other[0].events
    assert [s.id for s in small] == ["attack-0000", "attack-0001", "benign-0000", "benign-0001"]
    with pytest.raises(Invalid):
        generate_corpus(scenarios=0)


def test_scoring(corpus: list[Scenario], result: ReplayResult) -> None:
    attack = next(s for s in corpus if s.label == "brute_force")
    benign = next(s for s in corpus if s.label == "benign")
    outcome = next(o for o in result.outcomes if o.scenario == attack.id)
    assert outcome.detected and outcome.ttd_s is not None
    hit = next(d for d in outcome.detections if d.family == "brute_force")
    assert attack.attack_start is not None
    # The same detection of another family, or before the attack started, does not count.
    assert not score(attack, [replace(hit, family="vm_escape")]).detected
    early = replace(hit, ts=attack.attack_start - timedelta(seconds=1))
    assert not score(attack, [early]).detected
    late = replace(hit, ts=attack.attack_start + timedelta(seconds=42))
    assert score(attack, [late]).ttd_s == 42.0
    # Any detection at all in a benign scenario is a false positive.
    assert score(benign, [hit]).detected and not score(benign, []).detected


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([float(x) for x in range(101)], 95) == 95.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)
