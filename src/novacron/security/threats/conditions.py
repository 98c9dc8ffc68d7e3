"""A small, safe condition language for rules, compiled to closures (never ``eval``).

A condition is a YAML mapping of one of two shapes::

    {field: <name>, <operator>: <operand>}          # a test on one field
    {all: [<cond>, ...]} | {any: [<cond>, ...]} | {not: <cond>}

Fields are the :data:`~.events.FIELDS` of an event or ``detail.<key>`` (nested keys with
dots). Operators:

==========  ==================================  ========================================
operator    operand                             true when the field's value …
==========  ==================================  ========================================
equals      a scalar                            equals it
in          a list of scalars                   is one of them
prefix      a string or list of strings         is a string starting with one of them
suffix      a string or list of strings         is a string ending with one of them
contains    a string or list of strings         is a string containing one of them
regex       a Python regular expression         is a string it matches (``re.search``)
cidr        a network or list of networks       is an IP address inside one of them
exists      true / false                        is present (not null) / absent
same_as     another field name                  is present and equals that field's value
==========  ==================================  ========================================

A missing field (``None``) satisfies only ``exists: false``; wrap a test in ``not`` to
invert it. Anything else — an unknown operator, two operators in one test, a bad regex
or network — is refused when the rule loads, with the field path of the offending key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any

from ._validate import Checker, Loc
from .events import FIELDS, SecurityEvent

Getter = Callable[[SecurityEvent], Any]
Predicate = Callable[[SecurityEvent], bool]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

OPERATORS = ("equals", "in", "prefix", "suffix", "contains", "regex", "cidr", "exists", "same_as")
COMBINATORS = ("all", "any", "not")
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition. ``actions`` is the set of ``action`` values it can possibly
    match (``None``: any), which lets the engine skip rules that cannot apply."""

    test: Predicate
    actions: frozenset[str] | None = None

    def __call__(self, event: SecurityEvent) -> bool:
        return self.test(event)


def _always(event: SecurityEvent) -> bool:
    return True


MATCH_ALL = Condition(_always)


def field_getter(name: Any, check: Checker, loc: Loc) -> Getter:
    """The accessor for a field name; unknown names fail at ``loc``."""
    if isinstance(name, str) and name in FIELDS:
        return attrgetter(name)
    if isinstance(name, str) and name.startswith("detail."):
        keys = tuple(name.split(".")[1:])
        if all(keys):
            return _detail_getter(keys)
    raise check.fail(loc, f"unknown field {name!r} (known: {', '.join(FIELDS)}, detail.<key>)")


def _detail_getter(keys: tuple[str, ...]) -> Getter:
    if len(keys) == 1:
        key = keys[0]
        return lambda e: e.detail.get(key)

    def get(e: SecurityEvent) -> Any:
        value: Any = e.detail
        for key in keys:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return get


def compile_condition(spec: Any, check: Checker, loc: Loc) -> Condition:
    spec = check.mapping(spec, loc)
    combinators = [k for k in spec if k in COMBINATORS]
    if combinators:
        if len(spec) != 1:
            raise check.fail(loc, f"{combinators[0]!r} must be the only key of its mapping")
        return _combine(combinators[0], spec[combinators[0]], check, (*loc, combinators[0]))
    if "field" not in spec:
        unknown = ", ".join(repr(k) for k in spec) or "nothing"
        raise check.fail(
            loc,
            f"expected 'field' with an operator or one of {', '.join(COMBINATORS)}, got {unknown}",
        )
    ops = [k for k in spec if k != "field"]
    for op in ops:
        if op not in OPERATORS:
            raise check.fail((*loc, op), f"unknown operator (known: {', '.join(OPERATORS)})")
    if len(ops) != 1:
        raise check.fail(loc, f"a test needs exactly one operator, got {len(ops)}")
    op = ops[0]
    get = field_getter(spec["field"], check, (*loc, "field"))
    test = _LEAVES[op](get, spec[op], check, (*loc, op))
    actions: frozenset[str] | None = None
    if spec["field"] == "action" and op in ("equals", "in"):
        values = spec[op] if op == "in" else [spec[op]]
        actions = frozenset(v for v in values if isinstance(v, str))
    return Condition(test, actions)


def _combine(kind: str, operand: Any, check: Checker, loc: Loc) -> Condition:
    if kind == "not":
        inner = compile_condition(operand, check, loc)
        inner_test = inner.test
        return Condition(lambda e: not inner_test(e))
    children = [
        compile_condition(c, check, (*loc, i))
        for i, c in enumerate(check.sequence(operand, loc, min_len=1))
    ]
    tests = tuple(c.test for c in children)
    sets = [c.actions for c in children]
    if kind == "all":
        known = [s for s in sets if s is not None]
        return Condition(_all(tests), frozenset.intersection(*known) if known else None)
    union = None if any(s is None for s in sets) else frozenset().union(*sets)  # type: ignore[arg-type]
    return Condition(_any(tests), union)


# Conditions run for every event a rule sees: two- and three-way combinations get their
# own closures, the rest plain loops (all()/any() over a generator cost more than the
# tests they run).


def _all(tests: tuple[Predicate, ...]) -> Predicate:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda e: a(e) and b(e)
    if len(tests) == 3:
        a, b, c = tests
        return lambda e: a(e) and b(e) and c(e)

    def test(e: SecurityEvent) -> bool:
        for t in tests:  # noqa: SIM110
            if not t(e):
                return False
        return True

    return test


def _any(tests: tuple[Predicate, ...]) -> Predicate:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda e: a(e) or b(e)

    def test(e: SecurityEvent) -> bool:
        for t in tests:  # noqa: SIM110
            if t(e):
                return True
        return False

    return test


# ---------------------------------------------------------------- leaf operators


def _scalar(value: Any, check: Checker, loc: Loc) -> Any:
    if value is None or not isinstance(value, _SCALARS):
        raise check.fail(loc, "expected a string, number or boolean")
    return value


def _equals(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    want = _scalar(operand, check, loc)
    return lambda e: get(e) == want


def _in(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    items = check.sequence(operand, loc, min_len=1)
    allowed = frozenset(_scalar(v, check, (*loc, i)) for i, v in enumerate(items))

    def test(e: SecurityEvent) -> bool:
        value = get(e)
        return isinstance(value, _SCALARS) and value in allowed

    return test


def _prefix(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    prefixes = check.strings(operand, loc)

    def test(e: SecurityEvent) -> bool:
        value = get(e)
        return isinstance(value, str) and value.startswith(prefixes)

    return test


def _suffix(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    suffixes = check.strings(operand, loc)

    def test(e: SecurityEvent) -> bool:
        value = get(e)
        return isinstance(value, str) and value.endswith(suffixes)

    return test


def _contains(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    needles = check.strings(operand, loc)

    def test(e: SecurityEvent) -> bool:
        value = get(e)
        return isinstance(value, str) and any(n in value for n in needles)

    return test


def _regex(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    pattern = check.string(operand, loc)
    try:
        search = re.compile(pattern).search
    except re.error as exc:
        raise check.fail(loc, f"bad regular expression: {exc}") from None

    def test(e: SecurityEvent) -> bool:
        value = get(e)
        return isinstance(value, str) and search(value) is not None

    return test


def _cidr(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    nets: list[IPNetwork] = []
    for i, text in enumerate(check.strings(operand, loc)):
        try:
            nets.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise check.fail(loc if isinstance(operand, str) else (*loc, i), str(exc)) from None
    networks = tuple(nets)

    def test(e: SecurityEvent) -> bool:
        value = get(e)
        if not isinstance(value, str):
            return False
        addr = parse_ip(value)
        # ``in`` between an IPv4 address and an IPv6 network is simply False.
        return addr is not None and any(addr in n for n in networks)

    return test


def _exists(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    want = check.boolean(operand, loc)
    return lambda e: (get(e) is not None) is want


def _same_as(get: Getter, operand: Any, check: Checker, loc: Loc) -> Predicate:
    other = field_getter(operand, check, loc)

    def test(e: SecurityEvent) -> bool:
        value = get(e)
        return value is not None and value == other(e)

    return test


_LEAVES: dict[str, Callable[[Getter, Any, Checker, Loc], Predicate]] = {
    "equals": _equals,
    "in": _in,
    "prefix": _prefix,
    "suffix": _suffix,
    "contains": _contains,
    "regex": _regex,
    "cidr": _cidr,
    "exists": _exists,
    "same_as": _same_as,
}


@lru_cache(maxsize=8192)
def parse_ip(text: str) -> IPAddress | None:
    """An address, or ``None`` for anything that is not one (cached: the same few client
    addresses recur in every window)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
