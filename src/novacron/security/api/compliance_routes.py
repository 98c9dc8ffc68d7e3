"""Compliance over REST.

``/api/v1/security/compliance/…`` (platform admins: ``classify`` maps the prefix to
``platform``)::

    GET    checks                    the catalogue with framework mappings
    POST   runs                      run every check now (synchronous), 201 + findings
    GET    runs                      runs, newest first, with the trend of recent runs
    GET    runs/{id}                 one run and its findings
    GET    runs/{id}/report          ?format=html|csv|ocsf|sarif, as a download
    GET    mutes                     active mutes (?include_expired=true for all)
    POST   mutes                     accept a risk: check, resource glob, reason, expiry
    GET    mutes/{id}
    DELETE mutes/{id}

``POST /api/v1/agents/facts`` (agents, with their own token): the agent's latest host
facts, kept under the agent's name.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from novacron.compute import hosts
from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.pagination import PageParams, page_params
from novacron.security.api import _events
from novacron.security.auth import require_agent, require_user
from novacron.security.compliance import service
from novacron.security.compliance.facts_codec import host_facts_from_json
from novacron.security.compliance.model import Status
from novacron.security.compliance.schemas import (
    CheckOut,
    FactsAccepted,
    FindingOut,
    MuteCreate,
    MuteOut,
    RunDetail,
    RunList,
    RunOut,
    TrendOut,
)
from novacron.security.tokens import Principal

PREFIX = "/api/v1/security/compliance"

admin_router = APIRouter(prefix=PREFIX, tags=["compliance"], dependencies=[Depends(require_user)])
agents_router = APIRouter(prefix="/api/v1/agents", tags=["agents"])

StatusName = Literal["pass", "fail", "error", "skipped", "muted"]
assert set(StatusName.__args__) == {s.value for s in Status}  # type: ignore[attr-defined]


def _detail(request: Request, run_id: str, **filters: Any) -> RunDetail:
    metas = service.check_metas()
    with db_of(request).read() as s:
        run = service.get_run(s, run_id)
        rows = service.run_findings(s, run_id, **filters)
        return RunDetail(
            **RunOut.of(run).model_dump(), findings=[FindingOut.of(r, metas) for r in rows]
        )


@admin_router.get("/checks", response_model=list[CheckOut])
def list_checks() -> list[CheckOut]:
    return [CheckOut.of(meta) for meta in service.check_metas().values()]


@admin_router.post("/runs", response_model=RunDetail, status_code=201)
def create_run(request: Request, response: Response) -> RunDetail:
    """Run every check now and keep the findings (mutes applied)."""
    principal: Principal = request.state.principal
    run = service.run_compliance(
        db_of(request), request.app.state.settings, requested_by=principal.name
    )
    counts = run.summary.get("counts", {})
    _events.record(
        request,
        "compliance.run",
        target=f"compliance-run:{run.id}",
        detail={"trigger": run.trigger, "failed": counts.get("fail", 0)},
    )
    response.headers["Location"] = f"{PREFIX}/runs/{run.id}"
    return _detail(request, run.id)


@admin_router.get("/runs", response_model=RunList)
def list_runs(
    request: Request,
    page: PageParams = Depends(page_params),
    trend_runs: int = Query(30, ge=0, le=200, description="Finished runs in the trend"),
) -> RunList:
    with db_of(request).read() as s:
        runs, total = service.list_runs(s, page)
        trend = service.run_trend(s, trend_runs) if trend_runs else []
        return RunList(
            items=[RunOut.of(r) for r in runs],
            total=total,
            limit=page.limit,
            offset=page.offset,
            trend=[TrendOut.of(t) for t in trend],
        )


@admin_router.get("/runs/{run_id}", response_model=RunDetail)
def get_run(
    request: Request,
    run_id: str,
    status: StatusName | None = Query(None, description="Only findings with this status"),
    check: str | None = Query(None, max_length=32, description="Only this check's findings"),
) -> RunDetail:
    return _detail(request, run_id, status=status, check_id=check)


@admin_router.get(
    "/runs/{run_id}/report",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/html": {},
                "text/csv": {},
                "application/json": {},
                "application/sarif+json": {},
            }
        }
    },
)
def download_report(
    request: Request,
    run_id: str,
    format: Literal["html", "csv", "ocsf", "sarif"] = "html",
) -> Response:
    """The run as a self-contained HTML page, CSV, OCSF 1.3 Compliance Finding events or
    SARIF 2.1.0, as an attachment."""
    with db_of(request).read() as s:
        report = service.render_report(s, run_id, format)
    return Response(
        report.body,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )


@admin_router.get("/mutes", response_model=list[MuteOut])
def list_mutes(request: Request, include_expired: bool = False) -> list[MuteOut]:
    now = utcnow()
    with db_of(request).read() as s:
        mutes = service.SqlMuteStore(s).list(include_expired=include_expired, now=now)
    return [MuteOut.of(m, now) for m in mutes]


@admin_router.post("/mutes", response_model=MuteOut, status_code=201)
def create_mute(request: Request, response: Response, body: MuteCreate) -> MuteOut:
    """Accept a failing finding for a while: it shows as ``muted`` with the reason until
    ``expires_at`` (the next run applies it)."""
    principal: Principal = request.state.principal
    now = utcnow()
    with db_of(request).session() as s:
        mute = service.create_mute(
            s,
            check_id=body.check_id,
            resource_pattern=body.resource_pattern,
            reason=body.reason,
            expires_at=body.expires_at,
            created_by=principal.name,
            now=now,
        )
    _events.record(
        request,
        "compliance.mute.create",
        target=f"compliance-mute:{mute.id}",
        detail={
            "check_id": mute.check_id,
            "resource_pattern": mute.resource_pattern,
            "expires_at": mute.expires_at.isoformat(),
        },
    )
    response.headers["Location"] = f"{PREFIX}/mutes/{mute.id}"
    return MuteOut.of(mute, now)


@admin_router.get("/mutes/{mute_id}", response_model=MuteOut)
def get_mute(request: Request, mute_id: str) -> MuteOut:
    with db_of(request).read() as s:
        mute = service.SqlMuteStore(s).get(mute_id)
    return MuteOut.of(mute, utcnow())


@admin_router.delete("/mutes/{mute_id}", status_code=204)
def delete_mute(request: Request, mute_id: str) -> Response:
    with db_of(request).session() as s:
        mute = service.SqlMuteStore(s).get(mute_id)
        service.SqlMuteStore(s).delete(mute_id)
    _events.record(
        request,
        "compliance.mute.delete",
        target=f"compliance-mute:{mute_id}",
        detail={"check_id": mute.check_id, "resource_pattern": mute.resource_pattern},
    )
    return Response(status_code=204)


@agents_router.post("/facts", response_model=FactsAccepted)
def report_host_facts(
    request: Request,
    body: dict[str, Any] = Body(..., description="HostFacts as JSON (facts_codec)"),
    principal: Principal = Depends(require_agent),
) -> FactsAccepted:
    """An agent's compliance facts about its machine (disks, ports, pending updates)."""
    facts = host_facts_from_json(body)
    with db_of(request).session() as s:
        assert principal.token_id is not None  # agents always come with a token
        agent = hosts.agent_for_token(s, principal.token_id)
        row = service.record_host_facts(s, agent, facts)
        return FactsAccepted(host=row.host_name, collected_at=row.collected_at)


router = APIRouter()
router.include_router(admin_router)
router.include_router(agents_router)
