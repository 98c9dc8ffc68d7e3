"""``novacron login | logout | whoami | password | mfa | token`` against a real server."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from seccli_helpers import PASSWORD, Cli, api_as, make_user, unique

from novacron.testing.cluster import Cluster


def token_file(config: Path) -> Path:
    return config / "novacron" / "token"


def login(anon: Cli, name: str, password: str = PASSWORD) -> str:
    """Sign in with --password-stdin; the stored token."""
    result = anon("login", "--user", name, "--password-stdin", input=password + "\n")
    assert f"as {name};" in result.stdout
    return anon_token(anon)


def anon_token(anon: Cli) -> str:
    return Path(os.environ["XDG_CONFIG_HOME"], "novacron", "token").read_text().strip()


def test_login_stores_a_private_token_used_until_logout(
    server: Cluster, anon: Cli, admin: Cli, isolated_env: Path
) -> None:
    name = unique("alice")
    make_user(server, name)
    result = anon("login", "--user", name, "--password-stdin", input=PASSWORD + "\n")
    path = token_file(isolated_env)
    secret = path.read_text().strip()
    assert secret.startswith("nct_")
    assert secret not in result.stdout + result.stderr  # shown to nobody
    assert f"signed in to {server.url} as {name}" in result.stdout and str(path) in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    meta = json.loads((path.parent / "login.json").read_text())
    assert stat.S_IMODE((path.parent / "login.json").stat().st_mode) == 0o600

    # The minted token: the CLI's own, every scope, 30 days.
    with api_as(server, secret) as api:
        tokens = api.get("/tokens").json()
    assert [t["id"] for t in tokens] == [meta["token_id"]]
    assert tokens[0]["name"] == f"cli@{socket.gethostname()}"
    assert tokens[0]["scopes"] == ["*"]
    expires = datetime.fromisoformat(tokens[0]["expires_at"]).replace(tzinfo=UTC)
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)

    # Later commands use it without --token.
    me = anon.json("whoami")
    assert me["name"] == name and me["via"] == "token" and me["platform_admin"] is False
    assert str(path) in anon("whoami").stdout

    # The web session opened to mint the token was closed again.
    logouts = admin.json("audit", "list", "--actor", name, "--action", "auth.logout")
    assert len(logouts["items"]) == 1

    out = anon("logout").stdout
    assert "token revoked" in out and not path.exists()
    assert not (path.parent / "login.json").exists()
    with api_as(server, secret) as api:
        assert api.get("/auth/whoami").status_code == 401
    assert anon.error("whoami").startswith("error: no API token")
    assert "not signed in" in anon("logout").stdout  # twice is fine


def test_login_again_revokes_the_token_it_replaces(server: Cluster, anon: Cli) -> None:
    name = unique("bob")
    make_user(server, name)
    first = login(anon, name)
    second = login(anon, name)
    assert first != second
    with api_as(server, first) as api:
        assert api.get("/auth/whoami").status_code == 401
    with api_as(server, second) as api:
        assert api.get("/auth/whoami").json()["name"] == name


def test_bad_sign_ins_are_one_line(server: Cluster, anon: Cli, isolated_env: Path) -> None:
    name = unique("carol")
    make_user(server, name)
    line = anon.error("login", "--user", name, "--password-stdin", input="not the password\n")
    assert line == "error: wrong user name or password"
    assert anon.error("login", "--user", name, "--password-stdin", input="") == (
        "error: no password on standard input"
    )
    assert not token_file(isolated_env).exists()


def test_a_token_file_open_to_others_is_refused(server: Cluster, anon: Cli) -> None:
    name = unique("dave")
    make_user(server, name)
    login(anon, name)
    path = Path(os.environ["XDG_CONFIG_HOME"], "novacron", "token")
    path.chmod(0o644)
    line = anon.error("whoami")
    assert "open to other users (mode 0644)" in line and f"chmod 600 {path}" in line


def test_a_revoked_login_token_says_to_sign_in_again(server: Cluster, anon: Cli) -> None:
    name = unique("erin")
    make_user(server, name)
    secret = login(anon, name)
    token_id = json.loads(
        Path(os.environ["XDG_CONFIG_HOME"], "novacron", "login.json").read_text()
    )["token_id"]
    with api_as(server, secret) as api:
        assert api.delete(f"/tokens/{token_id}").status_code == 204
    line = anon.error("whoami")
    assert line.startswith("error: invalid or revoked token (token from ")
    assert line.endswith(": run novacron login)")
    # logout still cleans up, saying the token no longer worked
    assert "no longer valid" in anon("logout").stdout


def test_login_with_a_second_factor(server: Cluster, anon: Cli) -> None:
    name = unique("frank")
    make_user(server, name)
    login(anon, name)
    setup = anon.json("mfa", "setup", "--no-confirm")
    assert setup["uri"].startswith("otpauth://totp/") and setup["secret"] in setup["uri"]
    totp = pyotp.TOTP(setup["secret"])
    now = time.time()
    confirmed = anon.json("mfa", "confirm", totp.at(now))
    recovery = confirmed["recovery_codes"]
    assert len(recovery) == 10
    assert anon.json("whoami")["mfa_enabled"] is True
    anon("logout")

    # Without a code and no terminal: one line saying what is missing.
    line = anon.error("login", "--user", name, "--password-stdin", input=PASSWORD + "\n")
    assert "two-factor authentication is on: pass --code" in line

    # Asked for the code after the password (the next time step: each code works once).
    result = anon("login", "--user", name, input=f"{PASSWORD}\n{totp.at(now + 30)}\n")
    assert "Two-factor code" in result.stderr
    assert anon.json("whoami")["name"] == name

    # A recovery code with --code; it works once.
    anon("login", "--user", name, "--password-stdin", "--code", recovery[0], input=PASSWORD + "\n")
    line = anon.error(
        "login", "--user", name, "--password-stdin", "--code", recovery[0], input=PASSWORD + "\n"
    )
    assert line == "error: wrong or already used code"

    fresh = anon.json("mfa", "recovery-codes", "--password-stdin", input=PASSWORD + "\n")
    assert len(fresh["recovery_codes"]) == 10 and not set(fresh["recovery_codes"]) & set(recovery)
    assert "wrong password" in anon.error("mfa", "disable", "--password-stdin", input="nope\n")
    assert "is off" in anon("mfa", "disable", "--password-stdin", input=PASSWORD + "\n").stdout
    assert anon.json("whoami")["mfa_enabled"] is False
    login(anon, name)  # the password alone again


def test_mfa_setup_asks_for_the_code_it_printed(server: Cluster, anon: Cli) -> None:
    """Interactive set-up, as in a terminal: the secret is printed, then the code asked."""
    name = unique("grace")
    make_user(server, name)
    login(anon, name)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "novacron", "--url", server.url, "mfa", "setup"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    printed = []
    secret = ""
    try:
        while not secret:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(line)
            if line.strip().startswith("secret:"):
                secret = line.split(":", 1)[1].strip()
        assert secret, printed
        proc.stdin.write(pyotp.TOTP(secret).now() + "\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (printed, out, err)
    assert any(line.strip().startswith("URI:    otpauth://totp/") for line in printed)
    assert "Two-factor authentication is on" in out
    codes = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    assert len(codes) == 10
    assert anon.json("whoami")["mfa_enabled"] is True


def test_project_option_reaches_the_server(
    server: Cluster, anon: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("heidi")
    make_user(server, name)
    ids = {}
    for project in (unique("red"), unique("blue")):
        created = server.api.post("/projects", json={"name": project, "admin": name})
        assert created.status_code == 201, created.text
        ids[project] = created.json()["id"]
    login(anon, name)
    assert anon.json("whoami")["project"] in ids.values()  # a default of the user's
    for project, project_id in ids.items():
        assert anon.json("--project", project, "whoami")["project"] == project_id
        assert anon.json("--project", project_id, "whoami")["project"] == project_id
        assert f"{project} ({project_id})" in anon("--project", project, "whoami").stdout
        monkeypatch.setenv("NOVACRON_PROJECT", project)
        assert anon.json("whoami")["project"] == project_id
        monkeypatch.delenv("NOVACRON_PROJECT")
    assert anon.error("--project", "no-such-project", "whoami") == (
        "error: no project 'no-such-project'"
    )


def test_change_own_password(server: Cluster, anon: Cli) -> None:
    name = unique("ivan")
    make_user(server, name)
    login(anon, name)
    new = "a much better passphrase"
    line = anon.error("password", "--password-stdin", input=f"wrong one\n{new}\n")
    assert line == "error: invalid request: current_password: wrong password"
    result = anon("password", input=f"{PASSWORD}\n{new}\n{new}\n")  # asks for it twice
    assert "password changed" in result.stdout
    assert "Repeat the new password" in result.stderr
    anon("logout")
    anon.error("login", "--user", name, "--password-stdin", input=PASSWORD + "\n")
    login(anon, name, new)


def test_tokens_for_scripts(server: Cluster, admin: Cli) -> None:
    name = unique("ci")
    result = admin(
        "token", "create", "--name", name, "--scope", "compute:read", "--expires-in-days", "7"
    )
    secret = result.stdout.strip()
    assert secret.startswith("nct_") and result.stdout == secret + "\n"  # nothing else
    assert "only time the token is shown" in result.stderr
    with api_as(server, secret) as api:
        assert api.get("/vms").status_code == 200
        assert api.post("/projects", json={"name": unique("x")}).status_code == 403

    listed = {t["name"]: t for t in admin.json("token", "list")}
    assert listed[name]["scopes"] == ["compute:read"]
    assert name in admin("token", "list").stdout

    bound = admin.json("token", "create", "--name", unique("bound"), "--project", "default")
    assert bound["project_id"] == "proj-default" and bound["token"].startswith("nct_")

    assert f"revoked token {name}" in admin("token", "revoke", name).stdout
    with api_as(server, secret) as api:
        assert api.get("/vms").status_code == 401
    assert name not in {t["name"] for t in admin.json("token", "list")}
    assert name in {t["name"] for t in admin.json("token", "list", "--all")}
    assert admin.error("token", "revoke", "tok-nope") == "error: no token 'tok-nope' of yours"
    line = admin.error("token", "create", "--name", "bad", "--scope", "root")
    assert line.startswith("error: invalid request: scopes") and "unknown scope(s) root" in line
