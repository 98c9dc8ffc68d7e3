"""The state machine behind each rule kind (one module per kind); see ``base.py`` for
how state is grouped, pruned and capped."""

from __future__ import annotations

from typing import Any

from ..rules import (
    BaselineParams,
    MatchParams,
    NewValueParams,
    Rule,
    SequenceParams,
    ThresholdParams,
)
from .base import Detector, MatchDetector, evidence_of
from .baseline import BaselineDetector
from .new_value import NewValueDetector
from .sequence import SequenceDetector
from .threshold import MAX_WINDOW_EVENTS, ThresholdDetector

__all__ = [
    "MAX_WINDOW_EVENTS",
    "BaselineDetector",
    "Detector",
    "MatchDetector",
    "NewValueDetector",
    "SequenceDetector",
    "ThresholdDetector",
    "detector_for",
    "evidence_of",
]


def detector_for(rule: Rule, max_groups: int) -> Detector[Any]:
    kinds: dict[type, type[Detector[Any]]] = {
        MatchParams: MatchDetector,
        ThresholdParams: ThresholdDetector,
        NewValueParams: NewValueDetector,
        SequenceParams: SequenceDetector,
        BaselineParams: BaselineDetector,
    }
    return kinds[type(rule.params)](rule, max_groups)
