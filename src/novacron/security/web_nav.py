"""The sidebar's view of the signed-in user, shared by every page: their projects (the
project switcher), the one the request acts in, and whether to show the admin pages.

``nav_context`` is a Jinja global (registered by ``web.py``) that ``web/base.html`` calls,
so no slice's views have to pass it along.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.database import db_of
from novacron.core.errors import Invalid
from novacron.security.models import Project, ProjectMember, User
from novacron.security.tokens import Principal

MAX_CHOICES = 500


@dataclass(frozen=True)
class ProjectChoice:
    id: str
    name: str


@dataclass(frozen=True)
class NavContext:
    """What ``web/base.html`` needs of the signed-in user on every page."""

    signed_in: bool = False
    platform_admin: bool = False
    projects: tuple[ProjectChoice, ...] = ()
    current: ProjectChoice | None = None

    @property
    def switchable(self) -> bool:
        return len(self.projects) > 1


ANONYMOUS = NavContext()


def project_choices(session: Session, user: User, principal: Principal) -> list[ProjectChoice]:
    """The projects the user can act in: every project for a platform admin, else those
    where they hold a role; only its own for a token bound to one project."""
    stmt = select(Project.id, Project.name).order_by(Project.name).limit(MAX_CHOICES)
    if principal.bound_project_id:
        stmt = stmt.where(Project.id == principal.bound_project_id)
    elif not (user.platform_admin and user.disabled_at is None):
        mine = select(ProjectMember.project_id).where(ProjectMember.user_id == user.id)
        stmt = stmt.where(Project.id.in_(mine))
    return [ProjectChoice(pid, name) for pid, name in session.execute(stmt)]


def nav_context(request: Request) -> NavContext:
    """The sidebar's view of the request's user (a Jinja global, called by base.html).

    Pages pass through ``require_user``, which leaves the principal and the project on the
    request; anything else (the sign-in page, an error before authentication) gets the
    anonymous view. Computed once per request."""
    cached: NavContext | None = getattr(request.state, "security_nav", None)
    if cached is not None:
        return cached
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or principal.user_id is None:
        return ANONYMOUS
    with db_of(request).read() as s:
        user = s.get(User, principal.user_id)
        if user is None:
            return ANONYMOUS
        choices = project_choices(s, user, principal)
        current = None
        project_id: str | None = getattr(request.state, "project_id", None)
        if project_id is not None:
            current = next((c for c in choices if c.id == project_id), None)
            if current is None:  # e.g. the default project of a user with no role at all
                name = s.scalar(select(Project.name).where(Project.id == project_id))
                current = ProjectChoice(project_id, name or project_id)
        nav = NavContext(
            signed_in=True,
            platform_admin=bool(user.platform_admin and user.disabled_at is None),
            projects=tuple(choices),
            current=current,
        )
    request.state.security_nav = nav
    return nav


def may_act_in(session: Session, user: User, principal: Principal, project_ref: str) -> Project:
    """The project ``project_ref`` names, when the user may switch to it."""
    project = session.scalar(
        select(Project).where((Project.id == project_ref) | (Project.name == project_ref))
    )
    allowed = {c.id for c in project_choices(session, user, principal)}
    if project is None or project.id not in allowed:
        # One answer for "no such project" and "not yours": names are not disclosed.
        raise Invalid(
            f"project: no project {project_ref!r} of yours",
            errors=[{"loc": ["body", "project"], "msg": "not a project of yours"}],
        )
    return project
