"""Keeping secret values out of reprs and logs.

``SecretStr`` wraps a value so that printing, formatting or logging it shows
``**********``; only ``reveal()`` returns it. ``SecretMaskingFilter`` rewrites log
records: it masks values registered with it (the secrets vault registers every value
it stores or returns) and common token shapes — NovaCron tokens (nct_/nca_/nce_…),
``Bearer …``, ``X-Vault-Token: …``, passwords in URLs and ``password=…``-style
pairs.

A filter on a *logger* only sees records logged on that very logger, not those
propagated from children, so install it on handlers: ``install_masking_filter()``
adds it to every handler of the root logger.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "**********"
MIN_MASKED_LENGTH = 4
"""Shorter registered values are not masked: masking "on" everywhere helps nobody."""


class SecretStr:
    """A string that does not show itself. Compare with ``==`` (constant time)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, SecretStr):
            value = value.reveal()
        self._value = value

    def reveal(self) -> str:
        return self._value

    get_secret_value = reveal  # the pydantic spelling, for callers used to it

    def __repr__(self) -> str:
        return f"SecretStr('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretStr):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((SecretStr, self._value))

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("SecretStr cannot be pickled")


Redacted = SecretStr

# Token shapes: NovaCron tokens are prefix + token_urlsafe(32).
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(nc[tae]_)[A-Za-z0-9_-]{8,}"), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{12,}"), r"\1" + MASK),
    # Credentials in URLs: postgresql://user:pass@host → postgresql://user:***@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@"), r"\1" + MASK + "@"),
    (re.compile(r"(?i)\b(x-vault-token[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"), r"\1" + MASK),
    (
        re.compile(
            r"(?i)\b((?:password|passwd|pwd|passphrase|secret|client_secret|api[_-]?key|"
            r"access[_-]?token|refresh[_-]?token|token)[\"']?\s*[=:]\s*[\"']?)[^\s\"',;&]+"
        ),
        r"\1" + MASK,
    ),
]


def mask_text(text: str, values: Iterable[str] = ()) -> str:
    """``text`` with the given values and token shapes replaced by ``MASK``."""
    # Longest first, so a value containing another is masked whole.
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= MIN_MASKED_LENGTH and value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretMaskingFilter(logging.Filter):
    """Masks known secret values and token shapes in every record it sees; drops none."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str | SecretStr) -> None:
        raw = value.reveal() if isinstance(value, SecretStr) else value
        if len(raw) >= MIN_MASKED_LENGTH:
            with self._lock:
                self._values.add(raw)

    def forget(self, value: str | SecretStr) -> None:
        raw = value.reveal() if isinstance(value, SecretStr) else value
        with self._lock:
            self._values.discard(raw)

    def mask(self, text: str) -> str:
        with self._lock:
            values = tuple(self._values)
        return mask_text(text, values)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the handler's problem, not ours
            message = str(record.msg)
        masked = self.mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatter reuses exc_text when set, so the masked traceback is what gets out.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True

    def __repr__(self) -> str:
        return f"SecretMaskingFilter(values={len(self._values)})"


def install_masking_filter(
    mask_filter: SecretMaskingFilter, logger: logging.Logger | None = None
) -> None:
    """Add ``mask_filter`` to every handler of ``logger`` (default: root); idempotent."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if mask_filter not in handler.filters:
            handler.addFilter(mask_filter)
