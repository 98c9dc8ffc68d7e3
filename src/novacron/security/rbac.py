"""Role-based access control: pycasbin policies with domains = projects.

A request is ``(user, project, resource, action)``. Roles are granted per project
(``g, user, role, project``); the platform admin is granted in every domain
(``g, user, platform-admin, *``). Which roles may do what is the fixed policy below; who
holds which role lives in the ``project_members`` table and is loaded into the enforcer,
which reloads whenever the ``policy`` counter in ``security_state`` moves (any replica
may have changed a membership).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import casbin
from casbin import model as casbin_model
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from novacron.security.models import ProjectMember, SecurityState, User

MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, "*")) \
    && (p.obj == "*" || r.obj == p.obj) && regexMatch(r.act, p.act)
"""

PLATFORM_ADMIN = "platform-admin"

RESOURCES = ("compute", "corporate", "hosts", "project", "platform", "self")
"""``compute``: VMs, images, groups, operations, events of a project; ``corporate``: its
corporate-development records; ``hosts``: the shared fleet (read by members, changed by
platform admins); ``project``: the project's members, tokens and quotas; ``platform``:
users, projects, audit, compliance — platform admins only; ``self``: the caller's own
account (password, second factor, tokens) — any signed-in user, no project involved."""

ACTIONS = ("read", "write", "approve")

ROLES: dict[str, str] = {
    "admin": "everything in the project, including its members and corporate approvals",
    "operator": "runs the project's VMs and images; reads its corporate records",
    "viewer": "reads everything in the project",
    "corp-manager": "corporate development: edits and approves (valuations, MDF, deals)",
    "corp-analyst": "corporate development: edits, cannot approve",
    "corp-viewer": "corporate development: reads",
}

POLICY: tuple[tuple[str, str, str], ...] = (
    ("admin", "compute", "^(read|write)$"),
    ("admin", "corporate", "^(read|write|approve)$"),
    ("admin", "project", "^(read|write)$"),
    ("admin", "hosts", "^read$"),
    ("operator", "compute", "^(read|write)$"),
    ("operator", "corporate", "^read$"),
    ("operator", "project", "^read$"),
    ("operator", "hosts", "^read$"),
    ("viewer", "compute", "^read$"),
    ("viewer", "corporate", "^read$"),
    ("viewer", "project", "^read$"),
    ("viewer", "hosts", "^read$"),
    ("corp-manager", "corporate", "^(read|write|approve)$"),
    ("corp-manager", "project", "^read$"),
    ("corp-analyst", "corporate", "^(read|write)$"),
    ("corp-analyst", "project", "^read$"),
    ("corp-viewer", "corporate", "^read$"),
    ("corp-viewer", "project", "^read$"),
    (PLATFORM_ADMIN, "*", ".*"),
)

POLICY_KEY = "policy"


def new_enforcer() -> casbin.Enforcer:
    m = casbin_model.Model()
    m.load_model_from_text(MODEL)
    enforcer = casbin.Enforcer(m)
    enforcer.add_policies([[role, "*", obj, act] for role, obj, act in POLICY])
    return enforcer


def bump_policy_version(session: Session) -> None:
    """Tell every replica's :class:`Authorizer` to reload the grants (same transaction)."""
    updated = session.execute(
        update(SecurityState)
        .where(SecurityState.key == POLICY_KEY)
        .values(value=SecurityState.value + 1)
    )
    if getattr(updated, "rowcount", 1) == 0:
        session.add(SecurityState(key=POLICY_KEY, value=1))
        session.flush()


@dataclass(frozen=True)
class Grant:
    user_id: str
    role: str
    project_id: str


class Authorizer:
    """The process's casbin enforcer, kept in step with the database."""

    def __init__(self) -> None:
        self._enforcer = new_enforcer()
        self._version: int | None = None
        self._lock = threading.Lock()

    def refresh(self, session: Session) -> None:
        version = session.scalar(select(SecurityState.value).where(SecurityState.key == POLICY_KEY))
        if version is not None and version == self._version:
            return
        grants = [
            Grant(m.user_id, m.role, m.project_id) for m in session.scalars(select(ProjectMember))
        ]
        admins = session.scalars(
            select(User.id).where(User.platform_admin.is_(True), User.disabled_at.is_(None))
        ).all()
        enforcer = new_enforcer()
        rules = [[g.user_id, g.role, g.project_id] for g in grants]
        rules += [[user_id, PLATFORM_ADMIN, "*"] for user_id in admins]
        if rules:
            enforcer.add_grouping_policies(rules)
        with self._lock:
            self._enforcer, self._version = enforcer, version

    def allowed(self, user_id: str, project_id: str, resource: str, action: str) -> bool:
        with self._lock:
            enforcer = self._enforcer
        return bool(enforcer.enforce(user_id, project_id, resource, action))

    def roles(self, user_id: str, project_id: str) -> list[str]:
        with self._lock:
            enforcer = self._enforcer
        return sorted(set(enforcer.get_roles_for_user_in_domain(user_id, project_id)))

    def projects_of(self, user_id: str) -> list[str]:
        """Projects in which the user holds any role (``*`` for a platform admin)."""
        with self._lock:
            enforcer = self._enforcer
        rules = enforcer.get_filtered_grouping_policy(0, user_id)
        return sorted({rule[2] for rule in rules})


def scope_allows(scopes: list[str] | tuple[str, ...], resource: str, action: str) -> bool:
    """Whether a token's scopes cover ``resource:action`` (``*``, ``compute:*``,
    ``compute:read``). A scope never widens the token's user's roles."""
    for scope in scopes:
        res, _, act = scope.partition(":")
        if res in ("*", resource) and act in ("", "*", action):
            return True
    return False


def valid_scope(scope: str) -> bool:
    res, sep, act = scope.partition(":")
    if scope == "*":
        return True
    return bool(sep) and res in (*RESOURCES, "*") and act in (*ACTIONS, "*")


@dataclass(frozen=True)
class Need:
    """What a route asks of its caller."""

    resource: str
    action: str

    @property
    def scope(self) -> str:
        return f"{self.resource}:{self.action}"


_PREFIXES: tuple[tuple[str, str, str | None], ...] = (
    # (path prefix, resource, fixed action or None to derive it from the method)
    ("/api/v1/corporate/calc", "corporate", "read"),  # stateless computations
    ("/api/v1/corporate", "corporate", None),
    ("/corporate", "corporate", None),
    ("/api/v1/hosts", "hosts", None),
    ("/hosts", "hosts", None),
    ("/ui/hosts", "hosts", None),
    ("/ui/fleet", "hosts", None),
    ("/api/v1/projects/{project_ref}", "project", None),
    ("/api/v1/projects", "platform", None),
    ("/api/v1/secrets", "project", None),  # revealing a value needs project:write (route)
    ("/api/v1/users", "platform", None),
    ("/api/v1/audit", "platform", None),
    ("/api/v1/security", "platform", None),
    ("/api/v1/auth", "self", None),
    ("/api/v1/tokens", "self", None),
    ("/account", "self", None),
    ("/project", "project", None),  # the current project's members page
    ("/security", "platform", None),
)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def classify(method: str, path_template: str) -> Need:
    """The resource and action a route needs, from its path template and method.

    Anything not listed is a project's compute resource; a POST to ``…/approve`` is an
    approval; other reads are ``read`` and everything else ``write``."""
    resource, action = "compute", None
    for prefix, res, fixed in _PREFIXES:
        if path_template == prefix or path_template.startswith(prefix + "/"):
            resource, action = res, fixed
            break
    if action is None:
        if method.upper() in READ_METHODS:
            action = "read"
        elif path_template.endswith("/approve"):
            action = "approve"
        else:
            action = "write"
    return Need(resource, action)
