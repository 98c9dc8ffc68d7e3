"""View models of the security pages (``web.py``): the account page, users, projects with
their quota bars, and the audit log, newest first. The sidebar's are in ``web_nav.py``.

Everything here reads; changes go through the REST API (``security/api``), which the
pages call from ``static/security.js``, so each change has one implementation and one
audit record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import segno
from fastapi import Request
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from novacron.compute import quotas
from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.errors import NotFound
from novacron.security import totp, users
from novacron.security.api.admin import find_project, user_out
from novacron.security.context import current_project
from novacron.security.models import ApiToken, AuditRecord, Project, User
from novacron.security.rbac import ROLES, Authorizer
from novacron.security.schemas import ProjectOut, TokenOut, Usage, UserOut
from novacron.security.tokens import Principal
from novacron.security.web_nav import MAX_CHOICES, ProjectChoice, nav_context, project_choices
from novacron.web import ui

AUDIT_PAGE = 50
OUTCOMES = ("success", "failure", "denied")
OUTCOME_TONES = {"success": "ok", "failure": "bad", "denied": "warn"}
SCOPE_HINT = (
    "* (everything you may do), or resource:action — resources compute, corporate, hosts, "
    "project, platform, self; actions read, write, approve or *"
)


def _project_names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(Project.id, Project.name).where(Project.id.in_(wanted)))
    return {pid: name for pid, name in rows}


# -- account ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Membership:
    project: ProjectChoice
    roles: list[str]


@dataclass(frozen=True)
class TokenView:
    token: TokenOut
    project_name: str | None
    status: str
    """``active``, ``expired`` or ``revoked``."""

    @property
    def tone(self) -> str:
        return {"active": "ok", "expired": "idle", "revoked": "gone"}[self.status]


def _naive_utc(value: datetime) -> datetime:
    """Database rows hold naive UTC; API models may carry the zone: compare them alike."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def token_status(token: TokenOut, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and _naive_utc(token.expires_at) <= _naive_utc(now):
        return "expired"
    return "active"


def token_views(session: Session, user_id: str) -> list[TokenView]:
    """The user's API tokens, newest first, active ones before the rest."""
    rows = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.kind == "user")
        .order_by(ApiToken.created_at.desc())
    ).all()
    ids = {r.project_id for r in rows if r.project_id}
    names = _project_names(session, ids)
    now = utcnow()
    views = []
    for row in rows:
        out = TokenOut.model_validate(row)
        pname = names.get(out.project_id) if out.project_id else None
        views.append(TokenView(out, pname, token_status(out, now)))
    return sorted(views, key=lambda v: v.status != "active")


def account_context(request: Request, principal: Principal) -> dict[str, Any]:
    assert principal.user_id is not None
    with db_of(request).read() as s:
        user = s.get(User, principal.user_id)
        assert user is not None
        grouped: dict[str, Membership] = {}
        for project, role in users.memberships(s, user.id):
            entry = grouped.setdefault(
                project.id, Membership(ProjectChoice(project.id, project.name), [])
            )
            entry.roles.append(role)
        return {
            "nav": "account",
            "me": user_out(user),
            "must_change_password": user.must_change_password,
            "totp_pending": user.totp_secret is not None and user.totp_enabled_at is None,
            "totp_enabled_at": user.totp_enabled_at,
            "recovery_left": totp.remaining_recovery_codes(s, user.id),
            "memberships": list(grouped.values()),
            "tokens": token_views(s, user.id),
            "token_projects": project_choices(s, user, principal),
            "scope_hint": SCOPE_HINT,
            "current_project": getattr(request.state, "project_id", None),
        }


def tokens_context(request: Request, principal: Principal) -> dict[str, Any]:
    assert principal.user_id is not None
    with db_of(request).read() as s:
        return {"tokens": token_views(s, principal.user_id)}


def qr_svg(uri: str) -> Markup:
    """The ``otpauth://`` URI as a QR code, inline SVG drawn here (no script, no CDN)."""
    code = segno.make(uri, error="m")
    svg = code.svg_inline(scale=4, border=2, dark="#0f172a", light="#ffffff", title="QR code")
    return Markup(svg)  # segno's own markup; the URI is encoded, never embedded as text


# -- users -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    user: UserOut
    locked: bool

    @property
    def status(self) -> str:
        if self.user.disabled_at is not None:
            return "disabled"
        return "locked" if self.locked else "active"

    @property
    def tone(self) -> str:
        return {"disabled": "gone", "locked": "warn", "active": "ok"}[self.status]


def user_view(user: User, now: datetime | None = None) -> UserView:
    now = now or utcnow()
    return UserView(user_out(user), user.locked_until is not None and user.locked_until > now)


def users_context(request: Request) -> dict[str, Any]:
    with db_of(request).read() as s:
        now = utcnow()
        rows = s.scalars(select(User).order_by(User.name)).all()
        return {"nav": "sec-users", "users": [user_view(u, now) for u in rows]}


def user_row_context(request: Request, ref: str) -> dict[str, Any]:
    with db_of(request).read() as s:
        return {"u": user_view(users.find_user(s, ref))}


# -- projects --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaBar:
    """One quota: what the project's placed VMs hold against its limit (None: no limit)."""

    key: str
    label: str
    used: int
    limit: int | None
    fmt: Callable[[float], str] = str

    @property
    def open(self) -> bool:
        return self.limit is None

    @property
    def pct(self) -> float:
        if self.limit is None:
            return 0.0
        if self.limit == 0:  # nothing allowed: full from the start
            return 100.0
        return 100.0 * self.used / self.limit

    @property
    def width(self) -> str:
        return f"{min(self.pct, 100.0):.1f}"

    @property
    def level(self) -> str:
        pct = self.pct
        return "crit" if pct >= 90 else "warn" if pct >= 70 else "ok"

    @property
    def text(self) -> str:
        if self.limit is None:
            return f"{self.fmt(self.used)} · no limit"
        return f"{self.fmt(self.used)} / {self.fmt(self.limit)} · {self.pct:.0f}%"

    @property
    def detail(self) -> str:
        return "no quota" if self.limit is None else f"quota {self.fmt(self.limit)}"


def quota_bars(project: ProjectOut, usage: Usage) -> list[QuotaBar]:
    return [
        QuotaBar("vms", "VMs", usage.vms, project.quota_vms),
        QuotaBar("vcpus", "vCPUs", usage.vcpus, project.quota_vcpus),
        QuotaBar("memory", "Memory", usage.memory_mib, project.quota_memory_mib, ui.fmt_mib),
        QuotaBar("disk", "Disk", usage.disk_gib, project.quota_disk_gib, ui.fmt_gib),
    ]


@dataclass(frozen=True)
class ProjectView:
    project: ProjectOut
    usage: Usage
    bars: list[QuotaBar]
    members: int = 0
    admins: list[str] = field(default_factory=list)


def project_view(session: Session, project: Project) -> ProjectView:
    out = ProjectOut.model_validate(project)
    usage = quotas.usage(session, project.id)
    rows = users.members(session, project.id)
    return ProjectView(
        out,
        usage,
        quota_bars(out, usage),
        members=len({u.id for u, _ in rows}),
        admins=sorted({u.name for u, role in rows if role == "admin"}),
    )


def projects_context(request: Request) -> dict[str, Any]:
    with db_of(request).read() as s:
        rows = s.scalars(select(Project).order_by(Project.name)).all()
        return {
            "nav": "sec-projects",
            "projects": [project_view(s, p) for p in rows],
            "user_names": _user_names(s),
        }


def project_row_context(request: Request, ref: str) -> dict[str, Any]:
    with db_of(request).read() as s:
        return {"p": project_view(s, find_project(s, ref))}


def _user_names(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(User.name)
            .where(User.disabled_at.is_(None))
            .order_by(User.name)
            .limit(MAX_CHOICES)
        )
    )


def members_context(
    session: Session, project: Project, *, manage: bool = True, directory: bool = True
) -> dict[str, Any]:
    """The members card: ``manage`` shows the add and remove controls; ``directory``
    offers every user's name to pick from (platform admins only: a project admin types
    the name, as with the API, and learns no other user names)."""
    rows = users.members(session, project.id)
    admins = sum(1 for _, role in rows if role == "admin")
    return {
        "project": ProjectOut.model_validate(project),
        "members": [(user_out(u), role) for u, role in rows],
        "admin_count": admins,
        "roles": ROLES,
        "user_names": _user_names(session) if directory else [],
        "can_manage": manage,
        "members_src": f"/security/fragments/projects/{project.id}/members",
    }


def project_context(request: Request, ref: str) -> dict[str, Any]:
    """A project as platform admins see it (``/security/projects/{ref}``)."""
    with db_of(request).read() as s:
        project = find_project(s, ref)
        return {
            "nav": "sec-projects",
            "p": project_view(s, project),
            **members_context(s, project),
            "quotas_src": f"/security/fragments/projects/{project.id}/quotas",
            "can_set_quotas": True,
        }


def own_project_context(request: Request, principal: Principal) -> dict[str, Any]:
    """The Project page (``/project``): the current project's quotas and members, for
    everyone in it; its admins add and remove members, platform admins set quotas."""
    project_id = current_project(request)
    authorizer: Authorizer = request.app.state.authorizer
    platform = nav_context(request).platform_admin
    manage = platform or (
        principal.user_id is not None
        and authorizer.allowed(principal.user_id, project_id, "project", "write")
    )
    with db_of(request).read() as s:
        project = s.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id!r}")
        return {
            "nav": "project",
            "p": project_view(s, project),
            **members_context(s, project, manage=manage, directory=platform),
            "members_src": "/project/fragments/members",
            "quotas_src": "/project/fragments/quotas",
            "can_set_quotas": platform,
        }


# -- audit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    outcome: str = ""
    before: int | None = None
    """Show records older than this seq (the "Older" link)."""

    @property
    def active(self) -> bool:
        return bool(self.actor or self.action or self.outcome)

    def query_string(self, **changes: Any) -> str:
        values = {
            "actor": self.actor,
            "action": self.action,
            "outcome": self.outcome,
            "before": self.before,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@dataclass(frozen=True)
class AuditRow:
    seq: int
    ts: datetime
    actor: str
    actor_kind: str
    action: str
    target: str
    project: str
    source_ip: str
    outcome: str
    status_code: int | None
    detail: dict[str, Any]

    @property
    def tone(self) -> str:
        return OUTCOME_TONES.get(self.outcome, "idle")

    @property
    def detail_text(self) -> str:
        return json.dumps(self.detail, sort_keys=True, default=str) if self.detail else ""


def audit_rows(session: Session, f: AuditFilter, limit: int = AUDIT_PAGE) -> list[AuditRow]:
    """The latest records that match, newest first (the API's listing is oldest first)."""
    stmt = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)
    if f.actor:
        stmt = stmt.where(AuditRecord.actor == f.actor.strip().lower())
    if f.action:
        stmt = stmt.where(AuditRecord.action.startswith(f.action.strip()))
    if f.outcome:
        stmt = stmt.where(AuditRecord.outcome == f.outcome)
    if f.before is not None:
        stmt = stmt.where(AuditRecord.seq < f.before)
    records = session.scalars(stmt).all()
    names = _project_names(session, {r.project_id for r in records if r.project_id})
    return [
        AuditRow(
            r.seq,
            r.ts,
            r.actor,
            r.actor_kind,
            r.action,
            r.target,
            names.get(r.project_id, r.project_id) if r.project_id else "",
            r.source_ip,
            r.outcome,
            r.status_code,
            dict(r.detail or {}),
        )
        for r in records
    ]


def audit_context(request: Request, f: AuditFilter) -> dict[str, Any]:
    with db_of(request).read() as s:
        rows = audit_rows(s, f, AUDIT_PAGE + 1)
        total = s.scalar(select(func.count()).select_from(AuditRecord)) or 0
    older = rows[AUDIT_PAGE - 1].seq if len(rows) > AUDIT_PAGE else None
    return {
        "nav": "sec-audit",
        "filter": f,
        "rows": rows[:AUDIT_PAGE],
        "older": older,
        "total": int(total),
        "outcomes": OUTCOMES,
        "page_size": AUDIT_PAGE,
    }
