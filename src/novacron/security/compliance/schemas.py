"""Pydantic types of the compliance API (``/api/v1/security/compliance``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from novacron.core.clock import UtcDateTime
from novacron.security.compliance.model import FRAMEWORKS, CheckMeta
from novacron.security.compliance.models import ComplianceFinding, ComplianceRun
from novacron.security.compliance.mutes import Mute
from novacron.security.compliance.trend import RunTrend


class CheckOut(BaseModel):
    id: str
    title: str
    severity: str
    scope: str
    """``platform`` (one finding, or one per admin) or ``host`` (one per host)."""
    description: str
    remediation: str
    frameworks: dict[str, list[str]]
    """Framework name → the controls the check gives evidence for."""

    @classmethod
    def of(cls, meta: CheckMeta) -> CheckOut:
        return cls(
            id=meta.id,
            title=meta.title,
            severity=meta.severity.value,
            scope=meta.scope,
            description=meta.description,
            remediation=meta.remediation,
            frameworks={
                fw.value: list(meta.controls(fw)) for fw in FRAMEWORKS if meta.controls(fw)
            },
        )


class RunOut(BaseModel):
    id: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    trigger: str
    requested_by: str
    status: str
    summary: dict[str, Any]
    """``findings``, ``counts`` per status, ``pass_rate`` (0-1 or null),
    ``failures_by_severity``; ``error`` when the run failed."""

    @classmethod
    def of(cls, run: ComplianceRun) -> RunOut:
        return cls(
            id=run.id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            trigger=run.trigger,
            requested_by=run.requested_by,
            status=run.status,
            summary=run.summary or {},
        )


class FindingOut(BaseModel):
    check_id: str
    title: str
    severity: str
    status: str
    resource: str
    evidence: str
    observed_at: UtcDateTime
    mute_reason: str | None = None
    muted_status: str | None = None

    @classmethod
    def of(cls, row: ComplianceFinding, metas: dict[str, CheckMeta]) -> FindingOut:
        meta = metas.get(row.check_id)
        return cls(
            check_id=row.check_id,
            title=meta.title if meta else row.check_id,
            severity=row.severity,
            status=row.status,
            resource=row.resource,
            evidence=row.evidence,
            observed_at=row.observed_at,
            mute_reason=row.mute_reason,
            muted_status=row.muted_status,
        )


class RunDetail(RunOut):
    findings: list[FindingOut]


class FindingKey(BaseModel):
    check_id: str
    resource: str


class TrendOut(BaseModel):
    run_id: str
    started_at: UtcDateTime
    counts: dict[str, int]
    pass_rate: float | None
    failures_by_severity: dict[str, int]
    new_failures: list[FindingKey]
    """Failing now, not failing in the run before."""
    resolved: list[FindingKey]
    """Failing in the run before, passing now."""

    @classmethod
    def of(cls, trend: RunTrend) -> TrendOut:
        return cls(
            run_id=trend.run_id,
            started_at=trend.started_at,
            counts={k.value: v for k, v in trend.counts.items()},
            pass_rate=trend.pass_rate,
            failures_by_severity={k.value: v for k, v in trend.failures_by_severity.items()},
            new_failures=[FindingKey(check_id=c, resource=r) for c, r in trend.new_failures],
            resolved=[FindingKey(check_id=c, resource=r) for c, r in trend.resolved],
        )


class RunList(BaseModel):
    items: list[RunOut]
    total: int
    limit: int
    offset: int
    trend: list[TrendOut]
    """The last ``trend_runs`` finished runs, oldest first."""


class MuteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_id: str = Field(max_length=32, examples=["NC-HST-002"])
    resource_pattern: str = Field(
        "*", max_length=256, description="Glob over resources: hv-*, user:breakglass, platform"
    )
    reason: str = Field(max_length=2000, description="Why the risk is accepted (required)")
    expires_at: datetime = Field(description="When the mute stops applying (UTC if naive)")


class MuteOut(BaseModel):
    id: str
    check_id: str
    resource_pattern: str
    reason: str
    expires_at: UtcDateTime
    created_by: str
    created_at: UtcDateTime
    active: bool

    @classmethod
    def of(cls, mute: Mute, now: datetime) -> MuteOut:
        return cls(
            id=mute.id,
            check_id=mute.check_id,
            resource_pattern=mute.resource_pattern,
            reason=mute.reason,
            expires_at=mute.expires_at,
            created_by=mute.created_by,
            created_at=mute.created_at,
            active=mute.active(now),
        )


class FactsAccepted(BaseModel):
    host: str
    """The name the facts are kept under: the agent's name."""
    collected_at: UtcDateTime
