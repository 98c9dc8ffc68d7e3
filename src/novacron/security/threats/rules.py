"""Detection rules: their YAML form, validation and loading.

One YAML file per rule family under ``rules/``; the family is the file's stem
(``brute_force.yaml`` → ``brute_force``). A file holds ``rules:``, a list of::

    id: brute-force-actor            # unique over all files, [a-z0-9-]
    title: Brute force against one account
    description: ...
    priority: high                   # critical | high | medium | low
    tags: [authentication]
    mitre: {technique: T1110, tactic: credential-access}
    kind: threshold                  # match | threshold | new_value | sequence | baseline
    condition: {...}                 # see conditions.py (sequence rules: steps: [...])
    group_by: [actor]                # the key state is kept and cool-downs apply per
    cooldown: 5m                     # at most one detection per group in this time
    summary: "{count} failed logins for {group}"   # optional text template
    # kind-specific fields, see the *Params classes below

Stateful kinds ignore an event when a ``group_by`` field is missing from it: "brute
force from an unknown address" is not one group.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ._validate import Checker, Loc, RuleError
from .conditions import MATCH_ALL, Condition, Getter, compile_condition, field_getter

PRIORITIES = ("critical", "high", "medium", "low")
KINDS = ("match", "threshold", "new_value", "sequence", "baseline")
TACTICS = (
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
)
"""MITRE ATT&CK enterprise tactics, as slugs."""

SUMMARY_FIELDS = (
    "count",
    "group",
    "window",
    "threshold",
    "value",
    "known",
    "expected",
    "actor",
    "target",
    "source_ip",
    "host",
    "action",
    "message",
)
"""Placeholders a ``summary`` template may use (plain names only, no attribute access)."""

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_TECHNIQUE = re.compile(r"T\d{4}(\.\d{3})?")
_COMMON = (
    "id",
    "title",
    "description",
    "priority",
    "tags",
    "mitre",
    "kind",
    "condition",
    "group_by",
    "cooldown",
    "summary",
    "enabled",
)


@dataclass(frozen=True, slots=True)
class Mitre:
    technique: str
    tactic: str


@dataclass(frozen=True, slots=True)
class MatchParams:
    """Every matching event is a detection (subject to the cool-down)."""


@dataclass(frozen=True, slots=True)
class Unless:
    """An exemption: a matching event is not counted when an event matching
    ``condition`` with the same ``same`` fields came ``within`` before it. E.g. deleting
    a VM you created an hour ago is cleanup, not destruction."""

    condition: Condition
    same: tuple[str, ...]
    same_get: tuple[Getter, ...]
    within: float


@dataclass(frozen=True, slots=True)
class ThresholdParams:
    """``threshold`` matching events (or distinct values of ``distinct``) per group within
    a sliding ``window``, not counting events exempted by ``unless``."""

    window: float
    threshold: int
    distinct: str | None = None
    distinct_get: Getter | None = None
    unless: Unless | None = None


@dataclass(frozen=True, slots=True)
class NewValueParams:
    """A value of ``value`` never seen for the group, once the group has been known for
    ``learning``. IP addresses are compared by network (``ipv4_prefix``/``ipv6_prefix``)
    so a renewed DHCP lease in the same block is not a new place."""

    value: str
    value_get: Getter
    learning: float
    ipv4_prefix: int = 32
    ipv6_prefix: int = 128
    max_values: int = 64
    forget: float = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class SequenceParams:
    """``steps`` matched in order by events of one group, all within ``window`` of the
    first."""

    steps: tuple[Condition, ...]
    window: float


@dataclass(frozen=True, slots=True)
class BaselineParams:
    """Per group, events per ``bucket`` against a winsorised EWMA of its active buckets:
    fire when the current bucket exceeds ``mean + k·sd`` and ``floor``."""

    bucket: float = 60.0
    alpha: float = 0.05
    k: float = 6.0
    floor: int = 100
    min_history: int = 30
    forget: float = 7 * 86400.0


Params = MatchParams | ThresholdParams | NewValueParams | SequenceParams | BaselineParams


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    family: str
    title: str
    description: str
    priority: str
    tags: tuple[str, ...]
    mitre: Mitre
    kind: str
    condition: Condition
    group_by: tuple[str, ...]
    group_get: tuple[Getter, ...]
    cooldown: float
    params: Params
    summary: str | None = None
    source: str = ""
    actions: frozenset[str] | None = None
    """Every ``action`` the rule needs to see (``None``: any); the engine's index."""


def builtin_rules_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("rules")))


def load_rules(paths: Iterable[Path] | Path | None = None) -> list[Rule]:
    """Rules from YAML files or directories (``*.yaml``, sorted); the shipped rules by
    default. Disabled rules are left out; ids must be unique over all files."""
    if paths is None:
        paths = [builtin_rules_dir()]
    elif isinstance(paths, Path):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except OSError as exc:
            raise RuleError(str(f), (), f"cannot read: {exc.strerror or exc}") from None
        for i, rule in enumerate(parse_rules(text, source=f.name, family=f.stem)):
            if rule.id in seen:
                raise RuleError(
                    f.name, ("rules", i, "id"), f"{rule.id!r} is already in {seen[rule.id]}"
                )
            seen[rule.id] = f.name
            rules.append(rule)
    return rules


def parse_rules(text: str, *, source: str, family: str) -> list[Rule]:
    """The enabled rules of one YAML document; any problem raises :class:`RuleError`."""
    check = Checker(source)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise check.fail((), f"not valid YAML: {where}{problem}") from None
    doc = check.mapping(doc, ())
    check.only(doc, (), ("rules",))
    items = check.sequence(doc.get("rules"), ("rules",), min_len=1)
    out: list[Rule] = []
    ids: set[str] = set()
    for i, item in enumerate(items):
        rule = _rule(item, check, ("rules", i), family)
        if rule is None:
            continue
        if rule.id in ids:
            raise check.fail(("rules", i, "id"), f"duplicate id {rule.id!r}")
        ids.add(rule.id)
        out.append(rule)
    return out


_KIND_FIELDS = {
    "match": (),
    "threshold": ("window", "threshold", "distinct", "unless"),
    "new_value": ("value", "learning", "ipv4_prefix", "ipv6_prefix", "max_values", "forget"),
    "sequence": ("steps", "window"),
    "baseline": ("bucket", "alpha", "k", "floor", "min_history", "forget"),
}


def _rule(spec: Any, check: Checker, loc: Loc, family: str) -> Rule | None:
    spec = check.mapping(spec, loc)
    kind = check.choice(spec.get("kind", "match"), (*loc, "kind"), KINDS)
    check.only(spec, loc, _COMMON + _KIND_FIELDS[kind])

    def req(key: str) -> Any:
        return _required(spec, key, check, loc)

    # A disabled rule is still validated: it will be enabled again one day.
    enabled = check.boolean(spec.get("enabled", True), (*loc, "enabled"))
    rule_id = check.string(req("id"), (*loc, "id"), pattern=_ID)
    mitre = check.mapping(req("mitre"), (*loc, "mitre"))
    check.only(mitre, (*loc, "mitre"), ("technique", "tactic"))
    tags = check.sequence(spec.get("tags", []), (*loc, "tags"))
    group_by = tuple(check.sequence(spec.get("group_by", []), (*loc, "group_by")))
    group_get = tuple(
        field_getter(name, check, (*loc, "group_by", i)) for i, name in enumerate(group_by)
    )
    if kind == "sequence" and "condition" not in spec:
        condition = MATCH_ALL
    else:
        condition = compile_condition(req("condition"), check, (*loc, "condition"))
    params = _params(kind, spec, check, loc, req)
    actions = condition.actions
    if isinstance(params, SequenceParams) and condition is MATCH_ALL:
        actions = _union([s.actions for s in params.steps])
    if isinstance(params, ThresholdParams) and params.unless is not None:
        actions = _union([actions, params.unless.condition.actions])
    window = getattr(params, "window", None)
    default_cooldown = window if window is not None else 600.0
    if isinstance(params, NewValueParams):
        default_cooldown = 3600.0
    summary = spec.get("summary")
    if summary is not None:
        summary = _template(summary, check, (*loc, "summary"))
    rule = Rule(
        id=rule_id,
        family=family,
        title=check.string(req("title"), (*loc, "title")),
        description=check.string(req("description"), (*loc, "description")),
        priority=check.choice(req("priority"), (*loc, "priority"), PRIORITIES),
        tags=tuple(check.string(t, (*loc, "tags", j)) for j, t in enumerate(tags)),
        mitre=Mitre(
            technique=check.string(
                _required(mitre, "technique", check, (*loc, "mitre")),
                (*loc, "mitre", "technique"),
                pattern=_TECHNIQUE,
            ),
            tactic=check.choice(
                _required(mitre, "tactic", check, (*loc, "mitre")),
                (*loc, "mitre", "tactic"),
                TACTICS,
            ),
        ),
        kind=kind,
        condition=condition,
        group_by=tuple(str(g) for g in group_by),
        group_get=group_get,
        cooldown=check.duration(spec.get("cooldown", default_cooldown), (*loc, "cooldown")),
        params=params,
        summary=summary,
        source=check.source,
        actions=actions,
    )
    return rule if enabled else None


def _union(sets: list[frozenset[str] | None]) -> frozenset[str] | None:
    if any(x is None for x in sets):
        return None
    return frozenset().union(*sets)  # type: ignore[arg-type]


def _required(spec: Mapping[str, Any], key: str, check: Checker, loc: Loc) -> Any:
    if key not in spec:
        raise check.fail((*loc, key), "required")
    return spec[key]


def _params(
    kind: str, spec: Mapping[str, Any], check: Checker, loc: Loc, req: Callable[[str], Any]
) -> Params:
    if kind == "match":
        return MatchParams()
    if kind == "threshold":
        distinct = spec.get("distinct")
        unless = None if spec.get("unless") is None else _unless(spec["unless"], check, loc)
        return ThresholdParams(
            window=check.duration(req("window"), (*loc, "window")),
            threshold=check.integer(req("threshold"), (*loc, "threshold"), minimum=1),
            distinct=None if distinct is None else str(distinct),
            distinct_get=None
            if distinct is None
            else field_getter(distinct, check, (*loc, "distinct")),
            unless=unless,
        )
    if kind == "new_value":
        d = NewValueParams.__dataclass_fields__
        return NewValueParams(
            value=str(req("value")),
            value_get=field_getter(spec["value"], check, (*loc, "value")),
            learning=check.duration(req("learning"), (*loc, "learning")),
            ipv4_prefix=_prefix(spec, "ipv4_prefix", 32, check, loc),
            ipv6_prefix=_prefix(spec, "ipv6_prefix", 128, check, loc),
            max_values=check.integer(
                spec.get("max_values", d["max_values"].default), (*loc, "max_values"), minimum=1
            ),
            forget=check.duration(spec.get("forget", d["forget"].default), (*loc, "forget")),
        )
    if kind == "sequence":
        steps = check.sequence(req("steps"), (*loc, "steps"), min_len=2)
        return SequenceParams(
            steps=tuple(
                compile_condition(s, check, (*loc, "steps", i)) for i, s in enumerate(steps)
            ),
            window=check.duration(req("window"), (*loc, "window")),
        )
    b = BaselineParams()
    return BaselineParams(
        bucket=check.duration(spec.get("bucket", b.bucket), (*loc, "bucket")),
        alpha=check.number(spec.get("alpha", b.alpha), (*loc, "alpha"), above=0, below=1),
        k=check.number(spec.get("k", b.k), (*loc, "k"), above=0),
        floor=check.integer(spec.get("floor", b.floor), (*loc, "floor"), minimum=1),
        min_history=check.integer(
            spec.get("min_history", b.min_history), (*loc, "min_history"), minimum=1
        ),
        forget=check.duration(spec.get("forget", b.forget), (*loc, "forget")),
    )


def _unless(spec: Any, check: Checker, loc: Loc) -> Unless:
    loc = (*loc, "unless")
    spec = check.mapping(spec, loc)
    check.only(spec, loc, ("condition", "same", "within"))
    same = check.sequence(_required(spec, "same", check, loc), (*loc, "same"), min_len=1)
    return Unless(
        condition=compile_condition(
            _required(spec, "condition", check, loc), check, (*loc, "condition")
        ),
        same=tuple(str(f) for f in same),
        same_get=tuple(field_getter(f, check, (*loc, "same", i)) for i, f in enumerate(same)),
        within=check.duration(_required(spec, "within", check, loc), (*loc, "within")),
    )


def _prefix(spec: Mapping[str, Any], key: str, default: int, check: Checker, loc: Loc) -> int:
    value = check.integer(spec.get(key, default), (*loc, key), minimum=0)
    if value > default:
        raise check.fail((*loc, key), f"must be at most {default}")
    return value


def _template(value: Any, check: Checker, loc: Loc) -> str:
    """A ``str.format`` template restricted to plain :data:`SUMMARY_FIELDS` names, so a
    rule file cannot reach object attributes through ``{x.__class__}``."""
    text = check.string(value, loc)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise check.fail(loc, f"bad template: {exc}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in SUMMARY_FIELDS or conversion or (spec and "{" in spec):
            raise check.fail(
                loc, f"unknown placeholder {{{name}}} (known: {', '.join(SUMMARY_FIELDS)})"
            )
    return text
