"""Threat detection: Falco/Sigma-style rules over security events.

    events     SecurityEvent: audit rows and host (QEMU) log lines in one shape
    rules      Rule, load_rules(): YAML rule files under rules/, validated on load
    conditions the safe condition language (equals, in, prefix, regex, cidr, …; all/any/not)
    engine     Engine(rules).feed(event) -> [Detection]: streaming, event time, bounded
    detectors  the state behind each rule kind: match, threshold, new_value, sequence,
               baseline
    corpus     generate_corpus(): seeded labelled scenarios (attacks mixed into traffic)
    replay     replay(corpus) -> ReplayResult: detection rate, false positives, TTD

Pure code: no database, HTTP or clock; time is the events' own.
"""

from __future__ import annotations

from novacron.security.threats._validate import RuleError
from novacron.security.threats.corpus import (
    ATTACK_VARIANTS,
    BENIGN_VARIANTS,
    FAMILIES,
    Scenario,
    generate_corpus,
)
from novacron.security.threats.detection import Detection
from novacron.security.threats.engine import Engine
from novacron.security.threats.events import SecurityEvent
from novacron.security.threats.replay import ReplayResult, replay
from novacron.security.threats.rules import Mitre, Rule, builtin_rules_dir, load_rules, parse_rules

__all__ = [
    "ATTACK_VARIANTS",
    "BENIGN_VARIANTS",
    "FAMILIES",
    "Detection",
    "Engine",
    "Mitre",
    "ReplayResult",
    "Rule",
    "RuleError",
    "Scenario",
    "SecurityEvent",
    "builtin_rules_dir",
    "generate_corpus",
    "load_rules",
    "parse_rules",
    "replay",
]
