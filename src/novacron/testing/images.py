"""Small image files for tests: valid qcow2 disks (with or without the things the server
refuses), fake bzImage kernels, and an agent token to fetch images with."""

from __future__ import annotations

import secrets
import struct
from pathlib import Path
from typing import Any

import httpx

from novacron.testing.cluster import Cluster

CLUSTER_BITS = 16
CLUSTER = 1 << CLUSTER_BITS
MIB = 1024 * 1024


def qcow2_bytes(
    virtual_size: int = 16 * MIB,
    *,
    backing_file: str | None = None,
    data_file: str | None = None,
    version: int = 3,
) -> bytes:
    """An empty qcow2 that qemu-img accepts: header, refcount table and block, L1 table.

    ``backing_file`` or ``data_file`` name an external file in the header (what the
    server must refuse); ``version=2`` writes the older header without feature bits."""
    l1_entries = max(1, -(-virtual_size // (CLUSTER * (CLUSTER // 8))))
    backing_off = 512 if backing_file else 0
    backing = (backing_file or "").encode()
    header_length = 104 if version == 3 else 72
    fields = struct.pack(
        ">4sIQIIQIIQQIIQ",
        b"QFI\xfb",
        version,
        backing_off,
        len(backing),
        CLUSTER_BITS,
        virtual_size,
        0,  # crypt_method
        l1_entries,
        3 * CLUSTER,  # L1 table
        1 * CLUSTER,  # refcount table
        1,  # refcount table clusters
        0,  # snapshots
        0,
    )
    if version == 3:
        incompatible = 1 << 2 if data_file else 0
        fields += struct.pack(">QQQII", incompatible, 0, 0, 4, header_length)
    extensions = b""
    if data_file:
        name = data_file.encode()
        padded = name + b"\0" * (-len(name) % 8)
        extensions += struct.pack(">II", 0x44415441, len(name)) + padded
    extensions += struct.pack(">II", 0, 0)
    header = bytearray(CLUSTER)
    header[: len(fields) + len(extensions)] = fields + extensions
    if backing_file:
        header[backing_off : backing_off + len(backing)] = backing
    refcount_table = struct.pack(">Q", 2 * CLUSTER).ljust(CLUSTER, b"\0")
    refcount_block = struct.pack(">4H", 1, 1, 1, 1).ljust(CLUSTER, b"\0")
    l1_table = bytes(CLUSTER)
    return bytes(header) + refcount_table + refcount_block + l1_table


def bzimage_bytes(size: int = 8192) -> bytes:
    """Enough of an x86 bzImage to pass for one: ``HdrS`` at offset 0x202."""
    data = bytearray(secrets.token_bytes(size))
    data[0x202:0x206] = b"HdrS"
    return bytes(data)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def agent_token(cluster: Cluster, name: str | None = None) -> str:
    """Register an agent without hosts and return its token (what a real agent gets)."""
    body: dict[str, Any] = {
        "enrolment_token": cluster.enrolment_token,
        "name": name or f"fetcher-{secrets.token_hex(4)}",
        "url": "http://127.0.0.1:9",
        "api_secret": secrets.token_urlsafe(24),
        "hosts": [],
    }
    resp = httpx.post(f"{cluster.url}/api/v1/agents/register", json=body, timeout=30)
    resp.raise_for_status()
    return str(resp.json()["token"])


def upload(
    cluster: Cluster, image: str, file_name: str, data: bytes, sha256: str | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/octet-stream"}
    if sha256 is not None:
        headers["X-Content-SHA256"] = sha256
    return cluster.api.put(f"/images/{image}/files/{file_name}", content=data, headers=headers)


def create_image(cluster: Cluster, name: str, **body: Any) -> dict[str, Any]:
    resp = cluster.api.post("/images", json={"name": name, **body})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def active_image(
    cluster: Cluster, name: str, files: dict[str, bytes], **body: Any
) -> dict[str, Any]:
    """Create, upload and activate an image (kind ``kernel`` if it has a kernel)."""
    kind = "kernel" if "kernel" in files else "disk"
    create_image(cluster, name, kind=kind, **body)
    for file_name, data in files.items():
        resp = upload(cluster, name, file_name, data)
        assert resp.status_code == 200, resp.text
    resp = cluster.api.post(f"/images/{name}/activate")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())
