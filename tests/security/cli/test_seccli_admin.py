"""``novacron user …`` and ``novacron project …`` against a real server."""

from __future__ import annotations

from pathlib import Path

from seccli_helpers import PASSWORD, Cli, make_user, unique

from novacron.testing.cluster import Cluster


def sign_in(anon: Cli, name: str, password: str = PASSWORD) -> None:
    anon("login", "--user", name, "--password-stdin", input=password + "\n")


def test_user_commands(server: Cluster, admin: Cli, anon: Cli) -> None:
    name, sso = unique("judy"), unique("sso")
    created = admin.json(
        "user",
        "create",
        name,
        "--display-name",
        "Judy Hopps",
        "--email",
        "judy@example.org",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert created["name"] == name and created["has_password"] is True
    assert created["display_name"] == "Judy Hopps" and created["platform_admin"] is False
    assert admin.json("user", "create", sso, "--no-password")["has_password"] is False
    prompted = admin("user", "create", unique("kim"), input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "Repeat the password" in prompted.stderr
    assert "has_password    yes" in prompted.stdout

    assert admin.error("user", "create", name, "--no-password") == (
        f"error: a user named '{name}' exists"
    )
    line = admin.error("user", "create", "Bad Name!", "--no-password")
    assert line.startswith("error: invalid request: name: String should match pattern")
    line = admin.error("user", "create", unique("x"), "--password-stdin", input="short\n")
    assert line.startswith("error: invalid request") and "at least 12 characters" in line

    listed = {u["name"]: u for u in admin.json("user", "list")}
    assert {name, sso, "admin"} <= set(listed)
    table = admin("user", "list").stdout
    assert "NAME" in table and "Judy Hopps" in table
    assert admin.json("user", "show", listed[name]["id"])["name"] == name
    assert "judy@example.org" in admin("user", "show", name).stdout

    assert admin.json("user", "update", name, "--email", "j@example.org")["email"] == (
        "j@example.org"
    )
    assert admin.json("user", "update", name, "--platform-admin")["platform_admin"] is True
    assert admin.json("user", "update", name, "--no-platform-admin")["platform_admin"] is False
    assert admin.error("user", "update", name) == (
        "error: nothing to change: pass --display-name, --email or --platform-admin"
    )
    assert admin.error("user", "show", "nobody-here") == "error: no user 'nobody-here'"

    # disable / enable: a disabled user cannot sign in
    assert f"disabled user {name}" in admin("user", "disable", name).stdout
    assert {u["name"]: u for u in admin.json("user", "list")}[name]["disabled_at"] is not None
    row = next(line for line in admin("user", "list").stdout.splitlines() if name in line)
    assert " disabled " in row
    anon.error("login", "--user", name, "--password-stdin", input=PASSWORD + "\n")
    assert f"enabled user {name}" in admin("user", "enable", name).stdout
    sign_in(anon, name)

    # an admin sets a password: the user must change it
    new = "a brand new passphrase"
    out = admin("user", "passwd", name, "--password-stdin", input=new + "\n").stdout
    assert "must change it" in out
    sign_in(anon, name, new)
    assert anon.json("whoami")["must_change_password"] is True
    assert "novacron password" in anon("whoami").stdout
    # until they do, nothing but their own account answers
    assert "administrator set your password" in anon.error("vm", "list")
    chosen = "a passphrase of my own"
    assert (
        "password changed"
        in anon("password", "--password-stdin", input=f"{new}\n{chosen}\n").stdout
    )
    new = chosen
    sign_in(anon, name, new)
    assert anon.json("whoami")["must_change_password"] is False

    # lockout after failed sign-ins, lifted by unlock
    for _ in range(5):
        resp = server.api.post("/auth/login", json={"name": name, "password": "wrong wrong wrong"})
        assert resp.status_code == 401
    locked = {u["name"]: u for u in admin.json("user", "list")}[name]
    assert locked["locked_until"] is not None and locked["failed_logins"] == 5
    line = anon.error("login", "--user", name, "--password-stdin", input=new + "\n")
    assert "too many failed sign-ins" in line
    assert f"unlocked {name}" in admin("user", "unlock", name).stdout
    assert f"two-factor is off for {name}" in admin("user", "reset-2fa", name).stdout
    sign_in(anon, name, new)

    # not a platform admin: refused, one line
    line = anon.error("user", "list")
    assert line == f"error: {name} may not read platform in this project"


def test_project_commands(server: Cluster, admin: Cli, anon: Cli, isolated_env: Path) -> None:
    owner, member = unique("lena"), unique("mike")
    make_user(server, owner)
    make_user(server, member)
    project = unique("team")
    quotas = ["--vms", "3", "--vcpus", "8", "--memory-mib", "2048", "--disk-gib", "50"]
    created = admin.json(
        "project", "create", project, "--description", "the team", "--admin", owner, *quotas
    )
    assert created["name"] == project and created["description"] == "the team"
    assert (created["quota_vms"], created["quota_vcpus"]) == (3, 8)
    assert (created["quota_memory_mib"], created["quota_disk_gib"]) == (2048, 50)
    assert admin.error("project", "create", project) == (
        f"error: a project named '{project}' exists"
    )

    assert project in {p["name"] for p in admin.json("project", "list")}
    row = next(line for line in admin("project", "list").stdout.splitlines() if project in line)
    assert "2 GiB" in row and "50 GiB" in row

    shown = admin.json("project", "show", project)
    assert shown["usage"] == {"vms": 0, "vcpus": 0, "memory_mib": 0, "disk_gib": 0}
    table = admin("project", "show", project).stdout
    assert "RESOURCE" in table and "QUOTA" in table
    vms_row = next(line for line in table.splitlines() if line.startswith("VMs"))
    assert vms_row.split() == ["VMs", "0", "3", "3"]
    assert admin.error("project", "show", "no-such-team") == "error: no project 'no-such-team'"

    updated = admin.json("project", "update", project, "--vms", "unlimited", "--vcpus", "16")
    assert updated["quota_vms"] is None and updated["quota_vcpus"] == 16
    assert updated["quota_memory_mib"] == 2048  # untouched
    assert "unlimited" in admin("project", "show", project).stdout
    assert admin.error("project", "update", project, "--vms", "-1") == (
        "error: --vms: '-1' is not a count: a whole number >= 0 or 'unlimited'"
    )
    assert admin.error("project", "update", project).startswith("error: nothing to change")

    # members
    granted = admin.json("project", "grant", project, member, "viewer")
    assert granted == {"user": member, "user_id": granted["user_id"], "role": "viewer"}
    members = {(m["user"], m["role"]) for m in admin.json("project", "members", project)}
    assert members == {(owner, "admin"), (member, "viewer")}
    line = admin.error("project", "grant", project, member, "king")
    assert line.startswith("error: invalid request: role: Input should be")
    assert (
        f"{member} is no longer viewer"
        in admin("project", "revoke", project, member, "viewer").stdout
    )
    assert {m["user"] for m in admin.json("project", "members", project)} == {owner}
    assert admin.error("project", "revoke", project, owner, "admin") == (
        f"error: {project} would have no admin left"
    )

    # the project's admin edits its description, not its quotas
    sign_in(anon, owner)
    assert anon.json("project", "update", project, "--description", "ours")["description"] == (
        "ours"
    )
    assert anon.error("project", "update", project, "--vms", "9") == (
        "error: only a platform admin changes quotas"
    )
    assert owner in anon("project", "members", project).stdout
