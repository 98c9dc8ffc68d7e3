"""The hash chain, as pure functions: how a record is hashed and how a run is verified.

``hash = SHA-256(prev_hash || "\\n" || canonical JSON of the record's fields)``. The
sequence number is hashed too, so a record moved, changed, inserted or deleted breaks the
chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64

FIELDS = (
    "seq",
    "ts",
    "actor",
    "actor_kind",
    "action",
    "target",
    "project_id",
    "source_ip",
    "outcome",
    "status_code",
    "request_id",
    "detail",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return value


def canonical(record: Mapping[str, Any]) -> bytes:
    body = {name: _plain(record.get(name)) for name in FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def link(prev_hash: str, record: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(record)).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    broken_at: int | None = None
    reason: str = ""

    def summary(self) -> str:
        if self.ok:
            if not self.checked:
                return "audit chain intact (no records)"
            return (
                f"audit chain intact: {self.checked} records, seq {self.first_seq}–{self.last_seq}"
            )
        return f"audit chain BROKEN at seq {self.broken_at}: {self.reason}"


def verify(
    records: Iterable[Mapping[str, Any]], start_hash: str = GENESIS, start_seq: int | None = None
) -> Verification:
    """Check records in ascending ``seq`` order, starting from ``start_hash`` (the genesis
    or the anchor left by pruning) and, when given, ``start_seq`` (0 or the anchor's seq).
    Stops at the first break; a deleted record is named by its own, missing, seq."""
    prev, checked, first, last = start_hash, 0, None, None
    for record in records:
        seq = int(record["seq"])
        first = seq if first is None else first
        after = last if last is not None else start_seq
        expected_seq = None if after is None else after + 1
        if expected_seq is not None and seq != expected_seq:
            reason = f"record {expected_seq} is missing (the next one is {seq})"
            return Verification(False, checked, first, last, expected_seq, reason)
        if record["prev_hash"] != prev:
            reason = "previous-hash link does not match (a record before it was removed or changed)"
            return Verification(False, checked, first, last, seq, reason)
        expected = link(prev, record)
        if record["hash"] != expected:
            return Verification(False, checked, first, last, seq, "record content was changed")
        prev, checked, last = expected, checked + 1, seq
    return Verification(True, checked, first, last)
