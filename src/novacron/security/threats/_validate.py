"""Field-path errors and small value checks shared by the rule and condition loaders.

Every problem in a rule file is reported as one :class:`RuleError` whose detail reads
``<file>: <path>: <message>``, e.g. ``brute_force.yaml: rules[1].condition.all[0].regex:
unbalanced parenthesis``; ``errors[0]["loc"]`` carries the same path as a list so the API
renders it like any other validation error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from novacron.core.errors import Invalid

Loc = tuple[str | int, ...]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class RuleError(Invalid):
    """A rule file that cannot be loaded; ``source`` names the file."""

    def __init__(self, source: str, loc: Loc, msg: str) -> None:
        where = format_loc(loc)
        prefix = f"{source}: {where}" if where else source
        super().__init__(f"{prefix}: {msg}", errors=[{"loc": list(loc), "msg": msg}])
        self.source = source
        self.loc = loc
        self.msg = msg


def format_loc(loc: Loc) -> str:
    """``("rules", 1, "condition", "all", 0)`` → ``rules[1].condition.all[0]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class Checker:
    """Typed reads from a parsed YAML document that fail with the field's path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, loc: Loc, msg: str) -> RuleError:
        return RuleError(self.source, loc, msg)

    def mapping(self, value: Any, loc: Loc) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(loc, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail(loc, f"keys must be strings, got {key!r}")
        return value

    def sequence(self, value: Any, loc: Loc, *, min_len: int = 0) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.fail(loc, f"expected a list, got {_kind(value)}")
        if len(value) < min_len:
            raise self.fail(loc, f"needs at least {min_len} item(s)")
        return value

    def string(self, value: Any, loc: Loc, *, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(loc, f"expected a non-empty string, got {_kind(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(loc, f"{value!r} does not match {pattern.pattern}")
        return value

    def strings(self, value: Any, loc: Loc) -> tuple[str, ...]:
        """A string or a non-empty list of strings."""
        if isinstance(value, str):
            return (self.string(value, loc),)
        items = self.sequence(value, loc, min_len=1)
        return tuple(self.string(v, (*loc, i)) for i, v in enumerate(items))

    def choice(self, value: Any, loc: Loc, choices: Sequence[str]) -> str:
        if value not in choices:
            raise self.fail(loc, f"{value!r} is not one of {', '.join(choices)}")
        return str(value)

    def integer(self, value: Any, loc: Loc, *, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(loc, f"expected an integer, got {_kind(value)}")
        if value < minimum:
            raise self.fail(loc, f"must be at least {minimum}")
        return value

    def number(
        self, value: Any, loc: Loc, *, above: float | None = None, below: float | None = None
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(loc, f"expected a number, got {_kind(value)}")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(loc, f"{value!r} is not a finite number")
        if above is not None and x <= above:
            raise self.fail(loc, f"must be greater than {above:g}")
        if below is not None and x >= below:
            raise self.fail(loc, f"must be less than {below:g}")
        return x

    def boolean(self, value: Any, loc: Loc) -> bool:
        if not isinstance(value, bool):
            raise self.fail(loc, f"expected true or false, got {_kind(value)}")
        return value

    def duration(self, value: Any, loc: Loc) -> float:
        """Seconds from ``30s``, ``5m``, ``2h``, ``1d`` (or a bare number of seconds), > 0."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str) and (m := _DURATION.match(value)):
            seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
        else:
            raise self.fail(loc, f"{value!r} is not a duration like 30s, 5m, 2h or 1d")
        if not seconds > 0:
            raise self.fail(loc, "duration must be positive")
        return seconds

    def only(self, spec: Mapping[str, Any], loc: Loc, allowed: Sequence[str]) -> None:
        """Refuse unknown keys: a typo like ``treshold`` must not silently disable a check."""
        for key in spec:
            if key not in allowed:
                raise self.fail((*loc, key), f"unknown field (allowed: {', '.join(allowed)})")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
