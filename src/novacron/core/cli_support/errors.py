"""Errors: every failure reaches the user as one ``error: ...`` line on stderr and exit 1.

``handle_errors`` (decorator) and ``errors_to_exit`` (context manager) turn
``NovaCronError`` and ``httpx.HTTPError`` into ``fail(format_error(exc))``."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, ParamSpec, TypeVar

import httpx

from novacron.core.errors import Invalid, NovaCronError

P = ParamSpec("P")
R = TypeVar("R")

_LOCATION_ROOTS = frozenset({"body", "query", "path", "header", "cookie"})


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def format_loc(loc: Sequence[Any] | Any) -> str:
    """``["body", "labels", "k"]`` → ``labels.k``; ``["body", "traits", 0]`` → ``traits[0]``."""
    if not isinstance(loc, list | tuple):
        return str(loc)
    parts = list(loc)
    if len(parts) > 1 and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def format_error(exc: BaseException) -> str:
    """One line for a user.

    Bad input reads ``invalid request: vcpus: Input should be …; name: …`` (every field
    path); any other error is its detail, e.g. ``cannot pause a VM that is stopped …``."""
    if isinstance(exc, NovaCronError):
        detail = _one_line(exc.detail)
        fields = []
        for err in exc.errors or []:
            if not isinstance(err, dict):
                fields.append(_one_line(str(err)))
                continue
            msg = _one_line(str(err.get("msg") or err.get("message") or "invalid"))
            where = format_loc(err.get("loc") or err.get("field") or [])
            fields.append(f"{where}: {msg}" if where else msg)
        if not fields:
            return detail or type(exc).__name__
        # "invalid request" unless the detail says what was invalid ("invalid sim configuration").
        says_invalid = detail.lower().startswith("invalid")
        parts = ["invalid request"] if isinstance(exc, Invalid) and not says_invalid else []
        # The server's detail often just lists the fields again: say it once.
        if detail and detail.lower() not in parts and not all(f in detail for f in fields):
            parts.append(detail)
        parts.append("; ".join(fields))
        return ": ".join(parts)
    if isinstance(exc, httpx.HTTPError):
        return _one_line(f"HTTP error: {exc}") if str(exc) else type(exc).__name__
    return _one_line(str(exc)) or type(exc).__name__


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr and exit with ``code`` (non-zero)."""
    sys.stderr.write(f"error: {_one_line(message)}\n")
    sys.stderr.flush()
    raise SystemExit(code or 1)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command: NovaCron and HTTP failures become one ``error:`` line and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (NovaCronError, httpx.HTTPError) as exc:
            fail(format_error(exc))

    return wrapper


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Context-manager twin of ``handle_errors``: ``with errors_to_exit(): ...``."""
    try:
        yield
    except (NovaCronError, httpx.HTTPError) as exc:
        fail(format_error(exc))
