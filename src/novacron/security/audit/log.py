"""Append to, verify, export and prune the audit log (NIST SP 800-53 AU-3/AU-9/AU-11).

Appends are serialized (an advisory lock on PostgreSQL; SQLite writers are serialized
already) so each record links to the one before. The newest sequence number is also kept
in ``security_state`` so cutting records off the end is caught as well.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.security.audit import chain
from novacron.security.models import AuditAnchor, AuditRecord, SecurityState

HEAD_KEY = "audit_head"
LOCK_KEY = 7413
OUTCOMES = ("success", "failure", "denied")
EXPORT_COLUMNS = (*chain.FIELDS, "prev_hash", "hash")


@dataclass(frozen=True)
class AuditEntry:
    """What happened, before it is numbered and chained."""

    actor: str
    action: str
    outcome: str = "success"
    actor_kind: str = "user"
    target: str = ""
    project_id: str | None = None
    source_ip: str = ""
    status_code: int | None = None
    request_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _start(session: Session) -> tuple[int, str]:
    """The seq and hash the next record links to."""
    last = session.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    if last is not None:
        return int(last[0]), str(last[1])
    anchor = session.get(AuditAnchor, 1)
    if anchor is not None:
        return int(anchor.seq), anchor.hash
    return 0, chain.GENESIS


def append(session: Session, entry: AuditEntry, ts: datetime | None = None) -> AuditRecord:
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
    prev_seq, prev_hash = _start(session)
    values: dict[str, Any] = {
        "seq": prev_seq + 1,
        "ts": ts or utcnow(),
        "actor": entry.actor[:128],
        "actor_kind": entry.actor_kind,
        "action": entry.action[:128],
        "target": entry.target[:512],
        "project_id": entry.project_id,
        "source_ip": entry.source_ip[:64],
        "outcome": entry.outcome,
        "status_code": entry.status_code,
        "request_id": entry.request_id[:64],
        "detail": entry.detail,
    }
    row = AuditRecord(**values, prev_hash=prev_hash, hash=chain.link(prev_hash, values))
    session.add(row)
    _set_head(session, row.seq)
    session.flush()
    return row


def _set_head(session: Session, seq: int) -> None:
    result = session.execute(
        update(SecurityState).where(SecurityState.key == HEAD_KEY).values(value=seq)
    )
    if getattr(result, "rowcount", 1) == 0:
        session.add(SecurityState(key=HEAD_KEY, value=seq))


def as_dict(row: AuditRecord) -> dict[str, Any]:
    return {name: getattr(row, name) for name in EXPORT_COLUMNS}


def _rows(session: Session, batch: int = 2000) -> Iterator[AuditRecord]:
    after = -1
    while True:
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.seq > after)
            .order_by(AuditRecord.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def verify(session: Session) -> chain.Verification:
    """Walk the whole retained chain; also catch records cut off its end."""
    anchor = session.get(AuditAnchor, 1)
    start = anchor.hash if anchor is not None else chain.GENESIS
    start_seq = anchor.seq if anchor is not None else 0
    result = chain.verify((as_dict(r) for r in _rows(session)), start, start_seq)
    if not result.ok:
        return result
    head = session.scalar(select(SecurityState.value).where(SecurityState.key == HEAD_KEY))
    last = result.last_seq if result.last_seq is not None else (anchor.seq if anchor else 0)
    if head is not None and head != last:
        return chain.Verification(
            False,
            result.checked,
            result.first_seq,
            result.last_seq,
            last + 1,
            f"records after seq {last} were removed (the log had reached seq {head})",
        )
    return result


def query(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    project_id: str | None = None,
    after_seq: int | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    stmt = select(AuditRecord).order_by(AuditRecord.seq)
    if since is not None:
        stmt = stmt.where(AuditRecord.ts >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.ts < until)
    if actor:
        stmt = stmt.where(AuditRecord.actor == actor)
    if action:
        stmt = stmt.where(AuditRecord.action.startswith(action))
    if outcome:
        stmt = stmt.where(AuditRecord.outcome == outcome)
    if project_id:
        stmt = stmt.where(AuditRecord.project_id == project_id)
    if after_seq is not None:
        stmt = stmt.where(AuditRecord.seq > after_seq)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    ts = record["ts"]
    return {**record, "ts": ts.isoformat(timespec="microseconds") + "Z"}


def export_json(records: list[AuditRecord]) -> str:
    """JSON Lines: one record per line, with its hashes, so a copy can be re-verified."""
    return "".join(json.dumps(_jsonable(as_dict(r)), sort_keys=True) + "\n" for r in records)


def export_csv(records: list[AuditRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for r in records:
        row = _jsonable(as_dict(r))
        row["detail"] = json.dumps(row["detail"], sort_keys=True)
        writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
    return out.getvalue()


def read_export(body: str, format: str = "json") -> list[dict[str, Any]]:
    """The records of an export (JSON Lines or CSV) with their stored types back, so
    :func:`verify_export` can recompute each hash."""
    if format == "json":
        rows = [json.loads(line) for line in body.splitlines() if line.strip()]
    elif format == "csv":
        rows = []
        for raw in csv.DictReader(io.StringIO(body)):
            row: dict[str, Any] = dict(raw)
            row["seq"] = int(row["seq"])
            row["status_code"] = int(row["status_code"]) if row["status_code"] else None
            row["project_id"] = row["project_id"] or None
            row["detail"] = json.loads(row["detail"])
            rows.append(row)
    else:
        raise ValueError("format must be json or csv")
    for row in rows:
        row["ts"] = datetime.fromisoformat(str(row["ts"]).removesuffix("Z"))
    return rows


def verify_export(body: str, format: str = "json") -> chain.Verification:
    """Verify an exported run on its own: it starts from its first record's link."""
    records = read_export(body, format)
    if not records:
        return chain.Verification(True, 0, None, None)
    first = records[0]
    return chain.verify(records, str(first["prev_hash"]), int(first["seq"]) - 1)


def prune(session: Session, older_than: datetime, actor: str = "system") -> int:
    """Drop records older than ``older_than`` (AU-11 retention). The chain stays
    verifiable: the anchor keeps the last dropped record's hash, and the pruning itself
    is recorded."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
    cutoff = session.execute(
        select(AuditRecord.seq, AuditRecord.hash)
        .where(AuditRecord.ts < older_than)
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    ).first()
    if cutoff is None:
        return 0
    seq, last_hash = int(cutoff[0]), str(cutoff[1])
    count = int(
        session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.seq <= seq))
        or 0
    )
    anchor = session.get(AuditAnchor, 1)
    if anchor is None:
        anchor = AuditAnchor(id=1, seq=seq, hash=last_hash, pruned_total=0, pruned_at=utcnow())
        session.add(anchor)
    anchor.seq, anchor.hash, anchor.pruned_at = seq, last_hash, utcnow()
    anchor.pruned_total = (anchor.pruned_total or 0) + count
    session.execute(delete(AuditRecord).where(AuditRecord.seq <= seq))
    session.flush()
    append(
        session,
        AuditEntry(
            actor=actor,
            actor_kind="system",
            action="audit.prune",
            target="audit_log",
            detail={"pruned": count, "through_seq": seq, "older_than": older_than.isoformat()},
        ),
    )
    return count
