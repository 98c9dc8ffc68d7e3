"""Platform administration: users and projects; project admins: their members."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from novacron.compute import quotas
from novacron.core.clock import utcnow
from novacron.core.database import db_of
from novacron.core.errors import Conflict, Forbidden, Invalid, NotFound
from novacron.core.ids import new_id
from novacron.security import users
from novacron.security.api import _events
from novacron.security.auth import require_user
from novacron.security.context import current_project
from novacron.security.models import Project, User
from novacron.security.rbac import Authorizer
from novacron.security.schemas import (
    MemberAdd,
    MemberOut,
    PasswordReset,
    ProjectCreate,
    ProjectDetail,
    ProjectOut,
    ProjectUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from novacron.security.tokens import Principal

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_user)])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        name=user.name,
        display_name=user.display_name,
        email=user.email,
        platform_admin=user.platform_admin,
        mfa_enabled=user.totp_enabled_at is not None,
        has_password=user.password_hash is not None,
        locked_until=user.locked_until,
        failed_logins=user.failed_logins,
        last_login_at=user.last_login_at,
        disabled_at=user.disabled_at,
        created_at=user.created_at,
    )


# -- users (platform admins) ---------------------------------------------------------------


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(request: Request) -> list[UserOut]:
    with db_of(request).read() as s:
        return [user_out(u) for u in s.scalars(select(User).order_by(User.name))]


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
def create_user(request: Request, body: UserCreate) -> UserOut:
    with db_of(request).session() as s:
        user = users.create_user(
            s,
            body.name,
            password=body.password,
            display_name=body.display_name,
            email=body.email,
            platform_admin=body.platform_admin,
        )
        out = user_out(user)
    _events.record(
        request,
        "user.create",
        target=f"user:{out.name}",
        detail={"platform_admin": body.platform_admin},
    )
    return out


@router.get("/users/{ref}", response_model=UserOut, tags=["users"])
def get_user(request: Request, ref: str) -> UserOut:
    with db_of(request).read() as s:
        return user_out(users.find_user(s, ref))


@router.patch("/users/{ref}", response_model=UserOut, tags=["users"])
def update_user(request: Request, ref: str, body: UserUpdate) -> UserOut:
    changes = body.model_dump(exclude_unset=True)
    with db_of(request).session() as s:
        user = users.find_user(s, ref, lock=True)
        for name in ("display_name", "email"):
            if changes.get(name) is not None:
                setattr(user, name, changes[name])
        if changes.get("platform_admin") is not None:
            users.set_platform_admin(s, user, bool(changes["platform_admin"]))
        if changes.get("disabled") is True and user.disabled_at is None:
            users.disable_user(s, user)
        elif changes.get("disabled") is False and user.disabled_at is not None:
            users.enable_user(s, user)
        out = user_out(user)
    action = "role.grant" if changes.get("platform_admin") else "user.update"
    _events.record(request, action, target=f"user:{out.name}", detail=changes)
    return out


@router.post("/users/{ref}/password", status_code=204, tags=["users"])
def reset_password(request: Request, ref: str, body: PasswordReset) -> None:
    """Set a user's password; they must change it at their next sign-in."""
    with db_of(request).session() as s:
        user = users.find_user(s, ref, lock=True)
        users.set_password(s, user, body.new_password, current=None)
        name = user.name
    _events.record(request, "user.password.reset", target=f"user:{name}")


@router.post("/users/{ref}/unlock", status_code=204, tags=["users"])
def unlock_user(request: Request, ref: str) -> None:
    with db_of(request).session() as s:
        user = users.find_user(s, ref, lock=True)
        user.failed_logins, user.locked_until = 0, None
        name = user.name
    _events.record(request, "user.unlock", target=f"user:{name}")


@router.post("/users/{ref}/two-factor/reset", status_code=204, tags=["users"])
def reset_two_factor(request: Request, ref: str) -> None:
    """Turn a user's two-factor authentication off (lost authenticator and recovery
    codes); their sessions end and they set it up again after signing in."""
    with db_of(request).session() as s:
        user = users.find_user(s, ref, lock=True)
        users.reset_second_factor(s, user)
        name = user.name
    _events.record(request, "user.mfa.reset", target=f"user:{name}")


# -- projects ----------------------------------------------------------------------------


def find_project(s: Session, ref: str) -> Project:
    project = s.scalar(select(Project).where(or_(Project.id == ref, Project.name == ref)))
    if project is None:
        raise NotFound(f"no project {ref!r}")
    return project


@router.get("/projects", response_model=list[ProjectOut], tags=["projects"])
def list_projects(request: Request) -> list[ProjectOut]:
    with db_of(request).read() as s:
        return [
            ProjectOut.model_validate(p) for p in s.scalars(select(Project).order_by(Project.name))
        ]


@router.post("/projects", response_model=ProjectOut, status_code=201, tags=["projects"])
def create_project(request: Request, body: ProjectCreate) -> ProjectOut:
    with db_of(request).session() as s:
        if s.scalar(select(func.count()).select_from(Project).where(Project.name == body.name)):
            raise Conflict(f"a project named {body.name!r} exists")
        admin = users.find_user(s, body.admin) if body.admin else None
        project = Project(
            id=new_id("proj"),
            **body.model_dump(exclude={"admin"}),
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(project)
        s.flush()
        if admin is not None:
            users.grant(s, project, admin, "admin")
        out = ProjectOut.model_validate(project)
    _events.record(
        request, "project.create", target=f"project:{out.name}", detail={"admin": body.admin}
    )
    return out


@router.get("/projects/{project_ref}", response_model=ProjectDetail, tags=["projects"])
def get_project(request: Request, project_ref: str) -> ProjectDetail:
    with db_of(request).read() as s:
        project = find_project(s, current_project(request))
        usage = quotas.usage(s, project.id)
        return ProjectDetail(**ProjectOut.model_validate(project).model_dump(), usage=usage)


@router.patch("/projects/{project_ref}", response_model=ProjectOut, tags=["projects"])
def update_project(request: Request, project_ref: str, body: ProjectUpdate) -> ProjectOut:
    """Description (project admins) and quotas (platform admins only)."""
    changes = body.model_dump(exclude_unset=True)
    principal: Principal = request.state.principal
    authorizer: Authorizer = request.app.state.authorizer
    quota_change = {k for k in changes if k.startswith("quota_")}
    if quota_change and "*" not in authorizer.projects_of(principal.user_id or ""):
        raise Forbidden("only a platform admin changes quotas")
    with db_of(request).session() as s:
        project = find_project(s, current_project(request))
        if changes.get("description") is None:
            changes.pop("description", None)
        for name, value in changes.items():
            setattr(project, name, value)
        out = ProjectOut.model_validate(project)
    _events.record(request, "project.update", target=f"project:{out.name}", detail=changes)
    return out


@router.get("/projects/{project_ref}/members", response_model=list[MemberOut], tags=["projects"])
def list_members(request: Request, project_ref: str) -> list[MemberOut]:
    with db_of(request).read() as s:
        rows = users.members(s, current_project(request))
        return [MemberOut(user=u.name, user_id=u.id, role=r) for u, r in rows]


@router.post(
    "/projects/{project_ref}/members", response_model=MemberOut, status_code=201, tags=["projects"]
)
def add_member(request: Request, project_ref: str, body: MemberAdd) -> MemberOut:
    with db_of(request).session() as s:
        project = find_project(s, current_project(request))
        try:
            user = users.find_user(s, body.user)
        except NotFound:
            raise Invalid(
                f"user: no user {body.user!r}",
                errors=[{"loc": ["body", "user"], "msg": "no such user"}],
            ) from None
        users.grant(s, project, user, body.role)
        out = MemberOut(user=user.name, user_id=user.id, role=body.role)
    _events.record(
        request,
        "role.grant",
        target=f"user:{out.user}",
        detail={"role": body.role, "project": project_ref, "actor_role": _actor_role(request)},
    )
    return out


def _actor_role(request: Request) -> str:
    """The granting caller's strongest role where it acted (threat rules compare it)."""
    principal: Principal = request.state.principal
    authorizer: Authorizer = request.app.state.authorizer
    if principal.user_id is None:
        return ""
    if "*" in authorizer.projects_of(principal.user_id):
        return "platform-admin"
    roles = authorizer.roles(principal.user_id, current_project(request))
    return "admin" if "admin" in roles else (roles[0] if roles else "")


@router.delete(
    "/projects/{project_ref}/members/{user_ref}/{role}", status_code=204, tags=["projects"]
)
def remove_member(request: Request, project_ref: str, user_ref: str, role: str) -> None:
    with db_of(request).session() as s:
        project = find_project(s, current_project(request))
        user = users.find_user(s, user_ref)
        users.revoke(s, project, user, role)
        name = user.name
    _events.record(
        request, "role.revoke", target=f"user:{name}", detail={"role": role, "project": project_ref}
    )
