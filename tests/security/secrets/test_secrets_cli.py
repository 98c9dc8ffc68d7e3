"""``novacron secret …`` and ``novacron keys …`` against the folder's real server."""

from __future__ import annotations

from pathlib import Path

from secretsapi_helpers import Cli, World, unique


def project_cli(world: World, token: str) -> tuple[Cli, tuple[str, str]]:
    return Cli(world.cluster.url, token), ("--project", world.alpha)


def test_secret_set_get_list_delete(world: World) -> None:
    cli, in_alpha = project_cli(world, world.alpha_admin_token)
    name = unique("cli/db")
    stored = cli.json(*in_alpha, "secret", "set", name, input="s3cret value\n")
    assert stored["name"] == name and stored["revision"] == 1 and "value" not in stored
    # Standard input loses its one trailing line break; piped output gains none.
    assert cli(*in_alpha, "secret", "get", name).stdout == "s3cret value"
    shown = cli.json(*in_alpha, "secret", "get", name)
    assert shown["value"] == "s3cret value" and shown["revision"] == 1

    table = cli(*in_alpha, "secret", "list").stdout
    assert name in table and "MASTER KEY" in table and "s3cret" not in table
    listed = cli.json(*in_alpha, "secret", "list", "--limit", "1000")
    assert name in [s["name"] for s in listed["items"]]
    assert "s3cret" not in str(listed)

    out = cli(*in_alpha, "secret", "delete", name).stdout
    assert out.strip() == f"secret {name} deleted"
    assert "no secret" in cli.error(*in_alpha, "secret", "get", name)


def test_secret_set_from_file_keeps_the_bytes(world: World, tmp_path: Path) -> None:
    cli, in_alpha = project_cli(world, world.alpha_admin_token)
    name, value = unique("cli-pem"), "-----BEGIN X-----\nabc\n-----END X-----\n"
    path = tmp_path / "value.pem"
    path.write_text(value, encoding="utf-8")
    assert "revision 1" in cli(*in_alpha, "secret", "set", name, "--from-file", str(path)).stdout
    assert cli(*in_alpha, "secret", "get", name).stdout == value
    assert "revision 2" in cli(*in_alpha, "secret", "set", name, input="other").stdout
    missing = cli.error(*in_alpha, "secret", "set", name, "--from-file", str(tmp_path / "nope"))
    assert "cannot read" in missing
    assert "no secret value" in cli.error(*in_alpha, "secret", "set", name, input="")


def test_secret_errors_are_one_line(world: World) -> None:
    viewer_token = world.alpha_viewer.headers["Authorization"].split()[1]
    admin, in_alpha = project_cli(world, world.alpha_admin_token)
    name = unique("cli-denied")
    admin(*in_alpha, "secret", "set", name, input="hidden-from-viewers")
    viewer = Cli(world.cluster.url, viewer_token)
    line = viewer.error(*in_alpha, "secret", "get", name)
    assert "may not reveal" in line and "hidden-from-viewers" not in line
    assert "invalid" in admin.error(*in_alpha, "secret", "set", "bad name", input="v").lower()


def test_keys_list_rotate_rewrap_retire(world: World) -> None:
    admin = Cli(world.cluster.url, world.cluster.token)
    alpha_admin, in_alpha = project_cli(world, world.alpha_admin_token)
    name = unique("cli-rot")
    alpha_admin(*in_alpha, "secret", "set", name, input="before rotation")

    before = admin.json("keys", "list")
    old = before["current"]
    assert before["provider"] == "file"
    assert f"current: {old}" in admin("keys", "list").stdout

    rotated = admin("keys", "rotate").stdout
    new = admin.json("keys", "list")["current"]
    assert new != old and f"master key {new} is current (was {old})" in rotated
    assert "current" in admin.error("keys", "retire", new)
    assert "rewrap" in admin.error("keys", "retire", old)

    report = admin.json("keys", "rewrap", "--batch-size", "3")
    assert report["complete"] and report["current_key"] == new and report["rewrapped"] >= 1
    assert "rewrapped 0 of" in admin("keys", "rewrap").stdout
    assert f"master key {old} retired" in admin("keys", "retire", old).stdout
    assert old not in [k["id"] for k in admin.json("keys", "list")["keys"]]
    assert alpha_admin(*in_alpha, "secret", "get", name).stdout == "before rotation"

    # Project admins are not platform admins: keys are not theirs.
    assert "may not" in alpha_admin.error(*in_alpha, "keys", "list")
