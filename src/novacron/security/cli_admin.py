"""``novacron user …`` and ``novacron project …``: accounts and tenants.

Users and the project list are the platform admins'; a project's admins manage its
members and description. Quotas (``--vms --vcpus --memory-mib --disk-gib``) are
platform admins' too; ``unlimited`` lifts one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from novacron.core.cli_support import (
    Column,
    fmt_mib,
    get_context,
    handle_errors,
    message,
    parse_time,
    print_json,
    render,
    render_object,
    seg,
)
from novacron.core.cli_support.output import _console
from novacron.core.errors import Invalid
from novacron.security.cli_common import PASSWORD_STDIN, fmt_when, read_secret, yes_no

user_app = typer.Typer(help="User accounts (platform admins).")
project_app = typer.Typer(help="Projects (tenants): quotas, usage and members.")


# -- users -----------------------------------------------------------------------------------


def user_state(user: dict[str, Any], now: datetime | None = None) -> str:
    if user.get("disabled_at"):
        return "disabled"
    locked = parse_time(user.get("locked_until"))
    if locked is not None and locked > (now or datetime.now(UTC)):
        return "locked"
    return "active"


USER_COLUMNS: list[Column] = [
    ("name", "name"),
    ("display name", "display_name"),
    ("email", "email"),
    ("admin", lambda u: yes_no(u.get("platform_admin"))),
    ("2fa", lambda u: yes_no(u.get("mfa_enabled"))),
    ("password", lambda u: yes_no(u.get("has_password"))),
    ("state", user_state),
    ("last login", lambda u: fmt_when(u.get("last_login_at"))),
]

USER_REF = typer.Argument(..., help="User name or id")


@user_app.command("list")
@handle_errors
def user_list(ctx: typer.Context) -> None:
    """List users."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get("/users"), USER_COLUMNS, empty="no users")


@user_app.command("create")
@handle_errors
def user_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Lower-case name, e.g. alice"),
    display_name: str = typer.Option("", "--display-name", help="Full name"),
    email: str = typer.Option("", "--email"),
    platform_admin: bool = typer.Option(False, "--platform-admin", help="Administer everything"),
    password_stdin: bool = PASSWORD_STDIN,
    no_password: bool = typer.Option(
        False, "--no-password", help="No password (signs in otherwise, e.g. single sign-on)"
    ),
) -> None:
    """Create a user; asks for a password (twice) unless --password-stdin or --no-password."""
    if password_stdin and no_password:
        raise Invalid("--password-stdin and --no-password exclude each other")
    cli = get_context(ctx)
    body: dict[str, Any] = {
        "name": name,
        "display_name": display_name,
        "email": email,
        "platform_admin": platform_admin,
    }
    if not no_password:
        body["password"] = read_secret(password_stdin, "Password", confirm=True)
    with cli.client() as api:
        render(cli, api.post("/users", json=body))


@user_app.command("show")
@handle_errors
def user_show(ctx: typer.Context, user: str = USER_REF) -> None:
    """Show one user."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get(f"/users/{seg(user)}"))


def _patch_user(ctx: typer.Context, user: str, body: dict[str, Any], done: str) -> None:
    cli = get_context(ctx)
    with cli.client() as api:
        updated = api.request("PATCH", f"/users/{seg(user)}", json=body)
    if done:
        message(cli, done.format(name=updated["name"]), updated)
    else:
        render(cli, updated)


@user_app.command("update")
@handle_errors
def user_update(
    ctx: typer.Context,
    user: str = USER_REF,
    display_name: str | None = typer.Option(None, "--display-name"),
    email: str | None = typer.Option(None, "--email"),
    platform_admin: bool | None = typer.Option(
        None, "--platform-admin/--no-platform-admin", help="Grant or take the platform admin role"
    ),
) -> None:
    """Change a user's name, email or platform admin role."""
    body = {
        k: v
        for k, v in (
            ("display_name", display_name),
            ("email", email),
            ("platform_admin", platform_admin),
        )
        if v is not None
    }
    if not body:
        raise Invalid("nothing to change: pass --display-name, --email or --platform-admin")
    _patch_user(ctx, user, body, "")


@user_app.command("disable")
@handle_errors
def user_disable(ctx: typer.Context, user: str = USER_REF) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    _patch_user(ctx, user, {"disabled": True}, "disabled user {name}")


@user_app.command("enable")
@handle_errors
def user_enable(ctx: typer.Context, user: str = USER_REF) -> None:
    """Enable a disabled user again."""
    _patch_user(ctx, user, {"disabled": False}, "enabled user {name}")


@user_app.command("passwd")
@handle_errors
def user_passwd(
    ctx: typer.Context, user: str = USER_REF, password_stdin: bool = PASSWORD_STDIN
) -> None:
    """Set a user's password; they must change it when they next sign in."""
    cli = get_context(ctx)
    body = {"new_password": read_secret(password_stdin, "New password", confirm=True)}
    with cli.client() as api:
        api.post(f"/users/{seg(user)}/password", json=body)
    message(
        cli,
        f"password of {user} set; they must change it at their next sign-in",
        {"user": user, "password_set": True},
    )


@user_app.command("unlock")
@handle_errors
def user_unlock(ctx: typer.Context, user: str = USER_REF) -> None:
    """Lift a lockout after failed sign-ins."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.post(f"/users/{seg(user)}/unlock")
    message(cli, f"unlocked {user}", {"user": user, "unlocked": True})


@user_app.command("reset-2fa")
@handle_errors
def user_reset_two_factor(ctx: typer.Context, user: str = USER_REF) -> None:
    """Turn a user's two-factor off (lost authenticator and recovery codes)."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.post(f"/users/{seg(user)}/two-factor/reset")
    message(cli, f"two-factor is off for {user}", {"user": user, "two_factor": False})


# -- projects --------------------------------------------------------------------------------

QUOTAS = (
    ("vms", "quota_vms", "VMs"),
    ("vcpus", "quota_vcpus", "vCPUs"),
    ("memory_mib", "quota_memory_mib", "memory"),
    ("disk_gib", "quota_disk_gib", "disk"),
)
UNLIMITED = ("unlimited", "none", "-")


def _quota_text(key: str, value: Any) -> str:
    if value is None:
        return "unlimited"
    if key == "memory_mib":
        return fmt_mib(value)
    if key == "disk_gib":
        return f"{value} GiB"
    return str(value)


def quota(value: str | None, option: str) -> int | None:
    """``--vms 10`` → 10; ``--vms unlimited`` → None (sent, lifting the quota)."""
    assert value is not None
    if value.strip().lower() in UNLIMITED:
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise Invalid(f"{option}: {value!r} is not a count: a whole number >= 0 or 'unlimited'")
    return number


def _quota_body(
    vms: str | None, vcpus: str | None, mem: str | None, disk: str | None
) -> dict[str, int | None]:
    given = {
        "quota_vms": ("--vms", vms),
        "quota_vcpus": ("--vcpus", vcpus),
        "quota_memory_mib": ("--memory-mib", mem),
        "quota_disk_gib": ("--disk-gib", disk),
    }
    return {k: quota(v, opt) for k, (opt, v) in given.items() if v is not None}


VMS = typer.Option(None, "--vms", help="Quota: VMs (a number or 'unlimited')")
VCPUS = typer.Option(None, "--vcpus", help="Quota: vCPUs")
MEMORY = typer.Option(None, "--memory-mib", help="Quota: memory in MiB")
DISK = typer.Option(None, "--disk-gib", help="Quota: disk in GiB")
PROJECT_REF = typer.Argument(..., help="Project name or id")


def _quota_column(key: str, field: str, label: str) -> Column:
    return (label, lambda p: _quota_text(key, p.get(field)))


PROJECT_COLUMNS: list[Column] = [
    ("name", "name"),
    ("id", "id"),
    ("description", "description"),
    *(_quota_column(*spec) for spec in QUOTAS),
    ("created", lambda p: fmt_when(p.get("created_at"))),
]


@project_app.command("list")
@handle_errors
def project_list(ctx: typer.Context) -> None:
    """List projects with their quotas."""
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.get("/projects"), PROJECT_COLUMNS, empty="no projects")


@project_app.command("create")
@handle_errors
def project_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Lower-case name, e.g. web-team"),
    description: str = typer.Option("", "--description"),
    admin: str | None = typer.Option(None, "--admin", help="A user to make its first admin"),
    vms: str | None = VMS,
    vcpus: str | None = VCPUS,
    memory_mib: str | None = MEMORY,
    disk_gib: str | None = DISK,
) -> None:
    """Create a project (quotas are unlimited unless given)."""
    cli = get_context(ctx)
    body: dict[str, Any] = {"name": name, "description": description}
    body.update(_quota_body(vms, vcpus, memory_mib, disk_gib))
    if admin:
        body["admin"] = admin
    with cli.client() as api:
        render(cli, api.post("/projects", json=body))


def render_usage(project: dict[str, Any]) -> None:
    """Each quota beside what the project uses of it."""
    usage = project.get("usage") or {}
    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in ("RESOURCE", "USED", "QUOTA", "FREE"):
        table.add_column(header)
    for key, field, label in QUOTAS:
        used, limit = usage.get(key), project.get(field)
        free = "-" if limit is None or used is None else _quota_text(key, max(0, limit - used))
        table.add_row(label, _quota_text(key, used or 0), _quota_text(key, limit), free)
    _console().print(table)


@project_app.command("show")
@handle_errors
def project_show(ctx: typer.Context, project: str = PROJECT_REF) -> None:
    """Show a project: its quotas beside its usage."""
    cli = get_context(ctx)
    with cli.client() as api:
        detail = api.get(f"/projects/{seg(project)}")
    if cli.json:
        print_json(detail)
        return
    console = _console()
    keep = {
        k: v
        for k, v in detail.items()
        if k != "usage" and not k.startswith("quota_")  # those are in the usage table
    }
    render_object(console, keep)
    console.print("")
    render_usage(detail)


@project_app.command("update")
@handle_errors
def project_update(
    ctx: typer.Context,
    project: str = PROJECT_REF,
    description: str | None = typer.Option(None, "--description"),
    vms: str | None = VMS,
    vcpus: str | None = VCPUS,
    memory_mib: str | None = MEMORY,
    disk_gib: str | None = DISK,
) -> None:
    """Change a project's description or quotas ('unlimited' lifts a quota)."""
    body: dict[str, Any] = _quota_body(vms, vcpus, memory_mib, disk_gib)
    if description is not None:
        body["description"] = description
    if not body:
        raise Invalid("nothing to change: pass --description or a quota option")
    cli = get_context(ctx)
    with cli.client() as api:
        render(cli, api.request("PATCH", f"/projects/{seg(project)}", json=body))


@project_app.command("members")
@handle_errors
def project_members(ctx: typer.Context, project: str = PROJECT_REF) -> None:
    """Who holds which role in a project."""
    cli = get_context(ctx)
    with cli.client() as api:
        members = api.get(f"/projects/{seg(project)}/members")
    render(cli, members, [("user", "user"), ("role", "role")], empty="no members")


@project_app.command("grant")
@handle_errors
def project_grant(
    ctx: typer.Context,
    project: str = PROJECT_REF,
    user: str = typer.Argument(..., help="User name or id"),
    role: str = typer.Argument(
        ..., help="admin, operator, viewer, corp-manager, corp-analyst or corp-viewer"
    ),
) -> None:
    """Give a user a role in a project."""
    cli = get_context(ctx)
    with cli.client() as api:
        member = api.post(f"/projects/{seg(project)}/members", json={"user": user, "role": role})
    message(cli, f"{member['user']} is now {member['role']} in {project}", member)


@project_app.command("revoke")
@handle_errors
def project_revoke(
    ctx: typer.Context,
    project: str = PROJECT_REF,
    user: str = typer.Argument(..., help="User name or id"),
    role: str = typer.Argument(..., help="The role to take away"),
) -> None:
    """Take a role in a project away from a user."""
    cli = get_context(ctx)
    with cli.client() as api:
        api.delete(f"/projects/{seg(project)}/members/{seg(user)}/{seg(role)}")
    message(
        cli,
        f"{user} is no longer {role} in {project}",
        {"project": project, "user": user, "role": role, "revoked": True},
    )


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(project_app, name="project")
