"""The user CLI end to end: ``novacron …`` against a real server and agent (3 sim hosts)."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from novacron.cli import app
from novacron.testing.cli import CLI
from novacron.testing.cluster import Cluster


@pytest.fixture
def cli(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> CLI:
    monkeypatch.delenv("NOVACRON_TOKEN", raising=False)
    monkeypatch.delenv("NOVACRON_URL", raising=False)
    return CLI(cluster.url, cluster.token)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def vm_state(cluster: Cluster, vm: str) -> str:
    return str(cluster.api.get(f"/vms/{vm}").json()["state"])


def test_vm_lifecycle(cli: CLI, cluster: Cluster) -> None:
    name = unique("web")

    # create waits, then prints the running VM (table mode)
    spec = "--vcpus 2 --memory 512 --disk 1 --label tier=web --label env=test"
    created = cli("vm", "create", name, *spec.split())
    assert name in created.stdout
    assert "running" in created.stdout
    vm = cluster.api.get(f"/vms/{name}").json()
    assert vm["state"] == "running"
    assert vm["labels"] == {"tier": "web", "env": "test"}
    assert vm["vcpus"] == 2 and vm["memory_mib"] == 512

    # JSON output is exactly what the API returned
    shown = cli.json("vm", "show", name)
    assert shown["id"] == vm["id"] and shown["state"] == "running"
    page = cli.json("vm", "list")
    assert set(page) == {"items", "total", "limit", "offset"}
    assert name in [item["name"] for item in page["items"]]
    assert cli.json("vm", "list", "--state", "stopped")["items"] == []
    table = cli("vm", "list").stdout
    assert "NAME" in table and name in table and vm["id"] in table

    # power actions, each waited for
    cli("vm", "stop", name)
    assert vm_state(cluster, name) == "stopped"
    assert "cannot pause" in cli.error("vm", "pause", name)
    assert vm_state(cluster, name) == "stopped"
    assert cli.json("vm", "start", name)["state"] == "running"
    assert cli.json("vm", "pause", name)["state"] == "paused"
    assert cli.json("vm", "resume", name)["state"] == "running"
    assert cli.json("vm", "reboot", name)["state"] == "running"
    cli("vm", "stop", vm["id"], "--force")  # by id as well as by name
    assert vm_state(cluster, name) == "stopped"

    # the operations are listed, newest first
    ops = cli.json("op", "list", "--target", vm["id"])
    kinds = [op["kind"] for op in ops["items"]]
    assert kinds[-1] == "vm.create"
    assert {"vm.start", "vm.stop", "vm.pause", "vm.resume", "vm.reboot"} <= set(kinds)
    assert all(op["state"] in ("succeeded", "failed") for op in ops["items"])
    table = cli("op", "list", "--target", vm["id"]).stdout
    assert "vm.create" in table and ops["items"][0]["id"] in table
    shown_op = cli.json("op", "show", ops["items"][0]["id"])
    assert shown_op == ops["items"][0]
    assert cli.json("op", "wait", ops["items"][-1]["id"])["state"] == "succeeded"

    # delete (no TTY: no question asked), then delete again fails
    deleted = cli("vm", "delete", name)
    assert f"deleted VM {name}" in deleted.stdout
    assert name not in [item["name"] for item in cli.json("vm", "list")["items"]]
    line = cli.error("vm", "delete", name)
    assert name in line


def test_no_wait_prints_the_operation(cli: CLI, cluster: Cluster) -> None:
    name = unique("nowait")
    op = cli.json(
        "vm", "create", name, "--vcpus", "1", "--memory", "256", "--disk", "1", "--no-wait"
    )
    assert op["kind"] == "vm.create"
    assert op["state"] in ("pending", "running", "succeeded")
    final = cli.json("op", "wait", op["id"])
    assert final["state"] == "succeeded"
    assert cli.json("vm", "show", op["target_id"])["state"] == "running"
    assert cli.json("vm", "delete", name, "--yes")["kind"] == "vm.delete"


def test_user_mistakes_are_one_line(cli: CLI, cluster: Cluster) -> None:
    line = cli.error("vm", "create", unique("bad"), "--vcpus", "0", "--memory", "512")
    assert "vcpus" in line and "greater than or equal to 1" in line
    line = cli.error("vm", "create", "bad name!", "--vcpus", "1", "--memory", "512")
    assert "name" in line
    assert cli.error("vm", "show", "no-such-vm") == "error: no VM 'no-such-vm'"
    assert "--label" in cli.error(
        "vm", "create", "x", "--vcpus", "1", "--memory", "64", "--label", "novalue"
    )
    # a VM no host can hold: the operation fails and says why
    line = cli.error("vm", "create", unique("huge"), "--vcpus", "1", "--memory", "16000000")
    assert line.startswith("error: vm.create failed: ")

    bad_token = CliRunner().invoke(app, ["--url", cluster.url, "--token", "nope", "vm", "list"])
    assert bad_token.exit_code == 1
    assert len(bad_token.stderr.strip().splitlines()) == 1


def test_hosts_images_groups(cli: CLI, cluster: Cluster) -> None:
    hosts = cli.json("host", "list")
    assert hosts["total"] == 3
    host = hosts["items"][0]["name"]
    table = cli("host", "list").stdout
    assert all(h["name"] in table for h in hosts["items"])
    assert "LAST HEARTBEAT" in table
    assert cli.json("host", "show", host)["name"] == host

    shown = cli.json("host", "maintenance", "on", host, "--reason", "disk swap")
    assert shown["state"] == "maintenance" and shown["maintenance_reason"] == "disk swap"
    assert [h["name"] for h in cli.json("host", "list", "--state", "maintenance")["items"]] == [
        host
    ]
    assert cli.json("host", "maintenance", "off", host)["state"] == "up"

    image = unique("img")
    created = cli.json("image", "create", image, "--format", "raw", "--size", "2")
    assert created["name"] == image and created["format"] == "raw" and created["size_gib"] == 2
    assert image in [i["name"] for i in cli.json("image", "list")["items"]]
    assert cli.json("image", "show", image)["id"] == created["id"]
    assert f"deleted image {image}" in cli("image", "delete", image).stdout
    assert image in cli.error("image", "show", image)

    group = unique("grp")
    made = cli.json("group", "create", group, "--policy", "anti-affinity", "--soft")
    assert made["policy"] == "anti-affinity" and made["strict"] is False
    assert group in cli("group", "list").stdout
    cli("group", "delete", group)
    assert group not in [g["name"] for g in cli.json("group", "list")["items"]]
