"""Replay a labelled corpus through the engine and score it.

Each scenario runs through a fresh :class:`~.engine.Engine`, so scenarios are
independent. Scoring:

- an attack scenario is *detected* when a rule of the scenario's family fires at or after
  the attack's first event; time to detect is that detection's event time minus the
  attack start (event time, so it is the rule's latency, not the machine's);
- a benign scenario is a *false positive* when any rule fires at all;
- detections in attack scenarios before the attack started are false alarms on the
  background, counted apart (``pre_attack_detections``). Detections of another family
  after the start are not counted against the engine: a stolen token that then scrapes
  the API rightly trips the volume rule too.

Percentiles use linear interpolation between order statistics (numpy's default).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .corpus import BENIGN, Scenario
from .detection import Detection
from .engine import Engine
from .rules import Rule, load_rules


@dataclass(frozen=True)
class Outcome:
    scenario: str
    label: str
    variant: str
    events: int
    detected: bool
    """Attack: the right family fired after the start. Benign: anything fired."""
    ttd_s: float | None
    detections: tuple[Detection, ...]


@dataclass(frozen=True)
class FamilyStats:
    family: str
    scenarios: int
    detected: int
    detection_rate: float
    ttd_median_s: float | None
    ttd_p95_s: float | None
    missed: tuple[str, ...]
    """``scenario-id:variant`` of each attack not detected."""


@dataclass(frozen=True)
class ReplayResult:
    scenarios: int
    events: int
    attacks: int
    detected: int
    detection_rate: float
    benign: int
    false_positives: int
    false_positive_rate: float
    ttd_median_s: float | None
    ttd_p95_s: float | None
    pre_attack_detections: int
    families: dict[str, FamilyStats]
    benign_variants: dict[str, dict[str, int]]
    """Per benign variant: ``scenarios`` and ``false_positives``."""
    false_positive_rules: dict[str, int]
    """Per rule id: benign scenarios in which it fired."""
    missed: tuple[str, ...]
    false_positive_ids: tuple[str, ...]
    outcomes: tuple[Outcome, ...]

    def as_dict(self, *, outcomes: bool = False) -> dict[str, Any]:
        out = asdict(self)
        if not outcomes:
            del out["outcomes"]
        else:
            out["outcomes"] = [
                {**asdict(o), "detections": [d.as_dict() for d in o.detections]}
                for o in self.outcomes
            ]
        return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100), linear interpolation; ``None`` for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def score(scenario: Scenario, detections: Sequence[Detection]) -> Outcome:
    ttd: float | None = None
    if scenario.label == BENIGN:
        detected = bool(detections)
    else:
        assert scenario.attack_start is not None
        hits = [
            d for d in detections if d.family == scenario.label and d.ts >= scenario.attack_start
        ]
        detected = bool(hits)
        if hits:
            ttd = (min(d.ts for d in hits) - scenario.attack_start).total_seconds()
    return Outcome(
        scenario.id,
        scenario.label,
        scenario.variant,
        len(scenario.events),
        detected,
        ttd,
        tuple(detections),
    )


def replay(
    corpus: Sequence[Scenario],
    rules: Sequence[Rule] | None = None,
    *,
    engine: Callable[[Sequence[Rule]], Engine] = Engine,
) -> ReplayResult:
    """Run every scenario through a fresh engine over ``rules`` (the shipped rules by
    default) and score the whole corpus."""
    rules = load_rules() if rules is None else rules
    outcomes = [score(s, engine(rules).run(s.events)) for s in corpus]
    by_id = {s.id: s for s in corpus}
    attacks = [o for o in outcomes if o.label != BENIGN]
    benign = [o for o in outcomes if o.label == BENIGN]

    families: dict[str, FamilyStats] = {}
    for family in dict.fromkeys(o.label for o in attacks):
        group = [o for o in attacks if o.label == family]
        ttds = [o.ttd_s for o in group if o.ttd_s is not None]
        families[family] = FamilyStats(
            family=family,
            scenarios=len(group),
            detected=sum(o.detected for o in group),
            detection_rate=_rate(sum(o.detected for o in group), len(group)),
            ttd_median_s=percentile(ttds, 50),
            ttd_p95_s=percentile(ttds, 95),
            missed=tuple(f"{o.scenario}:{o.variant}" for o in group if not o.detected),
        )
    variants: dict[str, dict[str, int]] = {}
    fp_rules: Counter[str] = Counter()
    for o in benign:
        v = variants.setdefault(o.variant, {"scenarios": 0, "false_positives": 0})
        v["scenarios"] += 1
        v["false_positives"] += o.detected
        fp_rules.update({d.rule_id for d in o.detections})
    pre_attack = 0
    for o in attacks:
        start = by_id[o.scenario].attack_start
        assert start is not None
        pre_attack += sum(d.ts < start for d in o.detections)
    ttds = [o.ttd_s for o in attacks if o.ttd_s is not None]
    detected = sum(o.detected for o in attacks)
    fps = sum(o.detected for o in benign)
    return ReplayResult(
        scenarios=len(outcomes),
        events=sum(o.events for o in outcomes),
        attacks=len(attacks),
        detected=detected,
        detection_rate=_rate(detected, len(attacks)),
        benign=len(benign),
        false_positives=fps,
        false_positive_rate=_rate(fps, len(benign)),
        ttd_median_s=percentile(ttds, 50),
        ttd_p95_s=percentile(ttds, 95),
        pre_attack_detections=pre_attack,
        families=families,
        benign_variants=variants,
        false_positive_rules=dict(fp_rules.most_common()),
        missed=tuple(f"{o.scenario}:{o.variant}" for o in attacks if not o.detected),
        false_positive_ids=tuple(f"{o.scenario}:{o.variant}" for o in benign if o.detected),
        outcomes=tuple(outcomes),
    )


def _rate(n: int, d: int) -> float:
    return n / d if d else 0.0


__all__ = ["FamilyStats", "Outcome", "ReplayResult", "percentile", "replay", "score"]
