"""Image files on the server: upload, judge, activate, download, delete — over real HTTP."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from novacron.compute import image_store
from novacron.compute.catalog import image_ref
from novacron.compute.models import Image
from novacron.core.database import Database, alembic_config
from novacron.testing.cluster import Cluster
from novacron.testing.databases import fresh_database
from novacron.testing.images import (
    MIB,
    active_image,
    agent_token,
    bzimage_bytes,
    create_image,
    qcow2_bytes,
    upload,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def server(make_cluster: Callable[..., Cluster]) -> Cluster:
    """A server without agents: image routes need none."""
    return make_cluster(with_agent=False)


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = resp.json()
    assert body["status"] == status and body["detail"]
    return body


def store_dir(cluster: Cluster, image_id: str) -> Path:
    return cluster.settings.data_dir / "images" / image_id


def leftovers(cluster: Cluster) -> list[str]:
    """Everything in the image store (temporary files included)."""
    root = cluster.settings.data_dir / "images"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_catalogue_images_keep_working(server: Cluster) -> None:
    image = create_image(server, "catalogue", format="raw", size_gib=2)
    assert image["status"] == "active" and image["kind"] == "disk"
    assert image["files"] == {} and image["cmdline"] == "" and image["virtual_size_bytes"] is None
    assert leftovers(server) == []


def test_image_ref_of_a_catalogue_image_is_none() -> None:
    assert image_ref(Image(id="img-1", name="x", kind="disk", format="raw", files={})) is None


def test_upload_activate_download(server: Cluster) -> None:
    disk = qcow2_bytes(3 * 1024 * MIB)
    image = create_image(server, "deb", kind="disk", format="qcow2", min_disk_gib=1)
    assert image["status"] == "pending" and image["files"] == {}

    resp = upload(server, "deb", "disk", disk, sha256=sha(disk).upper())  # any case
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["files"] == {"disk": {"sha256": sha(disk), "size": len(disk)}}
    assert body["virtual_size_bytes"] == 3 * 1024 * MIB
    assert body["size_gib"] == 3 and body["min_disk_gib"] == 3  # a VM disk holds the image
    assert body["status"] == "pending"
    assert leftovers(server) == [image["id"], f"{image['id']}/disk"]
    assert (store_dir(server, image["id"]) / "disk").read_bytes() == disk

    active = server.api.post("/images/deb/activate")
    assert active.status_code == 200 and active.json()["status"] == "active"
    assert server.api.post(f"/images/{image['id']}/activate").json()["status"] == "active"

    got = server.api.get("/images/deb/files/disk")
    assert got.status_code == 200 and got.content == disk
    assert got.headers["x-content-sha256"] == sha(disk)
    assert got.headers["content-type"] == "application/octet-stream"

    # An active image's files are final.
    p = problem(upload(server, "deb", "disk", qcow2_bytes()), 409)
    assert "active" in p["detail"]
    assert (store_dir(server, image["id"]) / "disk").read_bytes() == disk


def test_a_pending_file_can_be_replaced(server: Cluster) -> None:
    create_image(server, "again", kind="disk", format="raw")
    assert upload(server, "again", "disk", b"a" * 4096).status_code == 200
    body = upload(server, "again", "disk", b"b" * 8192).json()
    assert body["files"]["disk"] == {"sha256": sha(b"b" * 8192), "size": 8192}
    assert body["virtual_size_bytes"] == 8192


def test_streamed_upload_of_a_bigger_file(server: Cluster) -> None:
    """The body streams in chunks of unknown total (chunked encoding); nothing is lost."""
    create_image(server, "big", kind="disk", format="raw")
    digest, total = hashlib.sha256(), 0

    def chunks() -> Iterator[bytes]:
        nonlocal total
        for i in range(24):
            chunk = bytes([i]) * MIB
            digest.update(chunk)
            total += len(chunk)
            yield chunk

    resp = server.api.put("/images/big/files/disk", content=chunks())
    assert resp.status_code == 200, resp.text
    assert resp.json()["files"]["disk"] == {"sha256": digest.hexdigest(), "size": total}


def test_sha_mismatch_leaves_nothing(server: Cluster) -> None:
    image = create_image(server, "mismatch", kind="disk", format="raw")
    p = problem(upload(server, "mismatch", "disk", b"x" * 4096, sha256="0" * 64), 422)
    assert p["errors"][0]["loc"] == ["header", "X-Content-SHA256"]
    p = problem(upload(server, "mismatch", "disk", b"x" * 4096, sha256="not-hex"), 422)
    assert p["errors"][0]["loc"] == ["header", "X-Content-SHA256"]
    assert leftovers(server) == []
    after = server.api.get(f"/images/{image['id']}").json()
    assert after["status"] == "pending" and after["files"] == {}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (qcow2_bytes(backing_file="/etc/shadow"), "backing file ('/etc/shadow')"),
        (qcow2_bytes(backing_file="base.qcow2", version=2), "backing file"),
        (qcow2_bytes(data_file="/dev/sda"), "external data file"),
    ],
)
def test_external_files_are_refused(server: Cluster, data: bytes, words: str) -> None:
    create_image(server, "evil", kind="disk", format="qcow2")
    p = problem(upload(server, "evil", "disk", data), 422)
    assert words in p["detail"] and p["errors"][0]["loc"] == ["body"]
    assert leftovers(server) == []
    assert server.api.get("/images/evil").json()["files"] == {}


def test_header_checks_hold_without_qemu_img(
    server: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(image_store, "qemu_img", lambda: None)
    monkeypatch.setattr(image_store, "qemu_img_info", lambda path, fmt: calls.append(path))
    create_image(server, "noqemu", kind="disk", format="qcow2")
    for data in (qcow2_bytes(backing_file="/etc/shadow"), qcow2_bytes(data_file="/x")):
        problem(upload(server, "noqemu", "disk", data), 422)
    assert upload(server, "noqemu", "disk", qcow2_bytes(8 * MIB)).json()["virtual_size_bytes"] == (
        8 * MIB
    )
    assert calls == [] and leftovers(server) != []


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")
def test_overlay_made_by_qemu_img_is_refused(server: Cluster, tmp_path: Path) -> None:
    import subprocess

    base, overlay = tmp_path / "base.qcow2", tmp_path / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "64M"], check=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(overlay)],
        check=True,
    )
    create_image(server, "overlay", kind="disk")
    p = problem(upload(server, "overlay", "disk", overlay.read_bytes()), 422)
    assert str(base) in p["detail"]
    # A standalone image qemu-img made is fine.
    assert upload(server, "overlay", "disk", base.read_bytes()).json()["virtual_size_bytes"] == (
        64 * MIB
    )


def test_wrong_content_and_wrong_files(server: Cluster) -> None:
    create_image(server, "q", kind="disk", format="qcow2")
    create_image(server, "r", kind="disk", format="raw")
    create_image(server, "k", kind="kernel", format="qcow2", cmdline="console=ttyS0")
    assert "not a qcow2 image" in problem(upload(server, "q", "disk", bytes(4096)), 422)["detail"]
    assert "format is raw" in problem(upload(server, "r", "disk", qcow2_bytes()), 422)["detail"]
    p = problem(upload(server, "k", "kernel", b"\x7fELF" + bytes(8192)), 422)
    assert "bzImage" in p["detail"]
    assert "empty" in problem(upload(server, "k", "initrd", b""), 422)["detail"]
    p = problem(upload(server, "q", "kernel", bzimage_bytes()), 422)
    assert p["errors"][0]["loc"] == ["path", "file_name"]
    p = problem(upload(server, "q", "bios", b"x"), 422)
    assert p["errors"][0]["loc"] == ["path", "file_name"]
    problem(upload(server, "nope", "disk", b"x"), 404)
    assert leftovers(server) == []


def test_cmdline_is_for_kernel_images(server: Cluster) -> None:
    body = {"name": "c", "kind": "disk", "cmdline": "console=ttyS0"}
    p = problem(server.api.post("/images", json=body), 422)
    assert p["errors"][0]["loc"] == ["body", "cmdline"]
    body = {"name": "c", "kind": "kernel", "cmdline": "console=ttyS0\nrm -rf"}
    assert problem(server.api.post("/images", json=body), 422)["errors"][0]["loc"] == [
        "body",
        "cmdline",
    ]
    problem(server.api.post("/images", json={"name": "c", "kind": "iso"}), 422)


def test_kernel_image_needs_kernel_and_initrd(server: Cluster) -> None:
    image = create_image(server, "tiny", kind="kernel", format="qcow2", cmdline="console=ttyS0")
    kernel, initrd, disk = bzimage_bytes(), b"070701" + bytes(2048), qcow2_bytes(64 * MIB)
    assert upload(server, "tiny", "kernel", kernel).status_code == 200
    p = problem(server.api.post("/images/tiny/activate"), 409)
    assert "initrd" in p["detail"]
    assert upload(server, "tiny", "initrd", initrd).status_code == 200
    assert upload(server, "tiny", "disk", disk).status_code == 200
    active = server.api.post("/images/tiny/activate").json()
    assert active["status"] == "active" and active["cmdline"] == "console=ttyS0"

    with Database(server.settings.resolved_database_url).session() as s:
        row = s.get(Image, image["id"])
        assert row is not None
        ref = image_ref(row)
    assert ref == {
        "id": image["id"],
        "name": "tiny",
        "kind": "kernel",
        "format": "qcow2",
        "files": {"disk": sha(disk), "initrd": sha(initrd), "kernel": sha(kernel)},
        "cmdline": "console=ttyS0",
        "virtual_size_bytes": 64 * MIB,
    }


def test_activation_notices_a_file_gone_from_disk(server: Cluster) -> None:
    image = create_image(server, "gone", kind="disk", format="raw")
    assert upload(server, "gone", "disk", b"x" * 1024).status_code == 200
    (store_dir(server, image["id"]) / "disk").unlink()
    assert "upload it again" in problem(server.api.post("/images/gone/activate"), 409)["detail"]
    assert server.api.get("/images/gone").json()["status"] == "pending"


def test_download_needs_a_user_or_agent_token(server: Cluster) -> None:
    disk = b"r" * 4096
    image = active_image(server, "shared", {"disk": disk}, format="raw")
    # Agents fetch by id (names are only unique within a project).
    url = f"{server.url}/api/v1/images/{image['id']}/files/disk"
    token = agent_token(server)
    got = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.content == disk
    assert got.headers["x-content-sha256"] == sha(disk)

    problem(httpx.get(url), 401)
    problem(httpx.get(url, headers={"Authorization": "Bearer nca_forged"}), 401)
    enrol = {"Authorization": f"Bearer {server.enrolment_token}"}
    problem(httpx.get(url, headers=enrol), 401)
    # Agents read images; they don't write or list them.
    agent = {"Authorization": f"Bearer {token}"}
    problem(httpx.put(url, content=b"x", headers=agent), 401)
    problem(httpx.get(f"{server.url}/api/v1/images", headers=agent), 401)

    problem(server.api.get("/images/shared/files/kernel"), 404)
    problem(server.api.get("/images/nope/files/disk"), 404)


def test_delete_removes_files(server: Cluster) -> None:
    image = active_image(server, "doomed", {"disk": qcow2_bytes()})
    pending = create_image(server, "half", kind="kernel")
    assert upload(server, "half", "kernel", bzimage_bytes()).status_code == 200
    assert store_dir(server, image["id"]).is_dir() and store_dir(server, pending["id"]).is_dir()
    assert server.api.delete("/images/doomed").status_code == 204
    assert server.api.delete("/images/half").status_code == 204
    assert leftovers(server) == []
    problem(server.api.get(f"/images/{image['id']}/files/disk"), 404)


def test_vms_boot_only_from_active_images(cluster: Cluster) -> None:
    create_image(cluster, "waiting", kind="disk", format="raw")
    body = {"name": "vm-img", "vcpus": 1, "memory_mib": 256, "disk_gib": 1, "image": "waiting"}
    p = problem(cluster.api.post("/vms", json=body), 422)
    assert p["errors"][0]["loc"] == ["body", "image"] and "pending" in p["detail"]
    assert cluster.api.get("/vms").json()["total"] == 0

    assert upload(cluster, "waiting", "disk", b"d" * 4096).status_code == 200
    assert cluster.api.post("/images/waiting/activate").status_code == 200
    vm = cluster.create_vm("vm-img", image="waiting")
    assert vm["state"] == "running"
    # An image in use stays, files and all.
    assert problem(cluster.api.delete("/images/waiting"), 409)
    assert cluster.api.get("/images/waiting/files/disk").status_code == 200


def test_migration_keeps_existing_images(backend: str, tmp_path: Path) -> None:
    pg_url = os.environ.get("NOVACRON_TEST_DATABASE_URL")
    with fresh_database(backend, tmp_path, pg_url, migrated=False) as database_url:
        _migrate_with_an_old_image(database_url or f"sqlite:///{tmp_path / 'migrate.db'}")


def _migrate_with_an_old_image(url: str) -> None:
    from alembic import command

    db = Database(url)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "0002")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO images (id, project_id, name, os, format, size_gib, min_disk_gib, "
                    "source, created_at, updated_at) VALUES ('img-old', 'proj-default', 'old', "
                    "'linux', 'qcow2', 1, 1, '', '2026-01-01', '2026-01-01')"
                )
            )
        command.upgrade(cfg, "head")
        with db.read() as s:
            old = s.get(Image, "img-old")
            assert old is not None
            assert (old.kind, old.status, old.files, old.cmdline) == ("disk", "active", {}, "")
            assert old.virtual_size_bytes is None and image_ref(old) is None
        command.downgrade(cfg, "0002")
        command.upgrade(cfg, "head")
    finally:
        db.dispose()
