"""Security alerts from the threat rules (platform admins), the rule catalogue, and the
agents' QEMU log lines that feed the host rules."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from novacron.core.clock import UtcDateTime, utcnow
from novacron.core.database import db_of
from novacron.core.errors import Invalid, NotFound
from novacron.security import events
from novacron.security.auth import require_agent, require_user
from novacron.security.threats.audit_events import from_qemu_log
from novacron.security.threats.models import SecurityAlert
from novacron.security.threats.monitor import ThreatMonitor
from novacron.security.threats.rules import load_rules
from novacron.security.tokens import Principal

router = APIRouter()
alerts = APIRouter(
    prefix="/api/v1/security", tags=["security alerts"], dependencies=[Depends(require_user)]
)

Status = Literal["open", "acknowledged", "resolved"]


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    rule_id: str
    family: str
    title: str
    priority: str
    mitre_technique: str
    mitre_tactic: str
    tags: list[str]
    group_key: dict[str, Any]
    first_ts: UtcDateTime
    ts: UtcDateTime
    event_count: int
    summary: str
    evidence: list[str]
    source: str
    status: str
    status_by: str
    status_note: str


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int


class AlertUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["acknowledged", "resolved"]
    note: str = Field("", max_length=512)


class RuleOut(BaseModel):
    id: str
    family: str
    title: str
    priority: str
    kind: str
    mitre_technique: str
    mitre_tactic: str
    tags: list[str]


@alerts.get("/alerts", response_model=AlertPage)
def list_alerts(
    request: Request,
    status: Status | None = None,
    priority: Literal["critical", "high", "medium", "low"] | None = None,
    family: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> AlertPage:
    stmt = select(SecurityAlert)
    if status:
        stmt = stmt.where(SecurityAlert.status == status)
    if priority:
        stmt = stmt.where(SecurityAlert.priority == priority)
    if family:
        stmt = stmt.where(SecurityAlert.family == family)
    with db_of(request).read() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = s.scalars(
            stmt.order_by(SecurityAlert.ts.desc(), SecurityAlert.id).limit(limit).offset(offset)
        )
        return AlertPage(items=[AlertOut.model_validate(r) for r in rows], total=int(total))


@alerts.patch("/alerts/{alert_id}", response_model=AlertOut)
def update_alert(request: Request, alert_id: str, body: AlertUpdate) -> AlertOut:
    principal: Principal = request.state.principal
    with db_of(request).session() as s:
        alert = s.get(SecurityAlert, alert_id, with_for_update=True)
        if alert is None:
            raise NotFound(f"no alert {alert_id!r}")
        alert.status, alert.status_note, alert.status_by = body.status, body.note, principal.name
        out = AlertOut.model_validate(alert)
    events.record(request, f"alert.{body.status}", target=f"alert:{alert_id}")
    return out


@alerts.get("/threat-rules", response_model=list[RuleOut])
def list_rules(request: Request) -> list[RuleOut]:
    return [
        RuleOut(
            id=r.id,
            family=r.family,
            title=r.title,
            priority=r.priority,
            kind=r.kind,
            mitre_technique=r.mitre.technique,
            mitre_tactic=r.mitre.tactic,
            tags=list(r.tags),
        )
        for r in load_rules()
    ]


# -- agents: QEMU log lines -----------------------------------------------------------


class LogLine(BaseModel):
    vm_id: str | None = Field(None, max_length=64)
    line: str = Field(max_length=4000)


class HostEvents(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=128)
    lines: list[LogLine] = Field(max_length=1000)


class HostEventsAck(BaseModel):
    accepted: int
    alerts: int


@router.post("/api/v1/agents/host-events", response_model=HostEventsAck, tags=["agents"])
def host_events(
    request: Request, body: HostEvents, principal: Principal = Depends(require_agent)
) -> HostEventsAck:
    """QEMU's stderr lines from an agent's guests, checked by the VM-escape rules."""
    monitor: ThreatMonitor | None = getattr(request.app.state, "threat_monitor", None)
    if monitor is None:
        raise Invalid("threat detection is off on this server")
    now = utcnow()
    found = monitor.feed_host(
        from_qemu_log(body.host, line.vm_id, line.line.replace("\x00", ""), now)
        for line in body.lines
    )
    return HostEventsAck(accepted=len(body.lines), alerts=found)


router.include_router(alerts)
