from __future__ import annotations

import base64
import io
import shutil
import stat
import struct
import subprocess
from pathlib import Path
from typing import Any

import pycdlib
import pytest
import yaml

from novacron.core.errors import DriverError, Invalid
from novacron.hypervisor.qemu import cloudinit
from novacron.hypervisor.qemu.cloudinit import build_seed, seed_files


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def fake_key(kind: str = "ssh-ed25519", comment: str = "me@laptop", seed: int = 1) -> str:
    """A well-formed public key line: the blob starts with its own type, like real keys."""
    blob = _ssh_string(kind.encode()) + _ssh_string(bytes([seed]) * 32)
    return f"{kind} {base64.b64encode(blob).decode()} {comment}".strip()


KEY = fake_key()
OTHER_KEY = fake_key(seed=2, comment="ci")


def read_iso(path: Path) -> dict[str, Any]:
    """Label and files of an image, as Rock Ridge, Joliet and plain ISO 9660 readers see it."""
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        rr = {
            c.rock_ridge.name().decode(): c
            for c in iso.list_children(rr_path="/")
            if c.rock_ridge and not c.is_dot() and not c.is_dotdot()
        }
        files = {}
        for name in rr:
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
            joliet = io.BytesIO()
            iso.get_file_from_iso_fp(joliet, joliet_path=f"/{name}")
            assert joliet.getvalue() == out.getvalue()
            files[name] = out.getvalue().decode()
        joliet_names = sorted(
            c.file_identifier().decode("utf-16-be")
            for c in iso.list_children(joliet_path="/")
            if not c.is_dot() and not c.is_dotdot()
        )
        return {
            "label": iso.pvd.volume_identifier.decode().rstrip(),
            "joliet_label": iso.joliet_vd.volume_identifier.decode("utf-16-be").rstrip(),
            "joliet_names": joliet_names,
            "files": files,
        }
    finally:
        iso.close()


def cloud_config(text: str) -> dict[str, Any]:
    first, _, rest = text.partition("\n")
    assert first == "#cloud-config"
    data = yaml.safe_load(rest)
    assert isinstance(data, dict)
    return data


def test_seed_has_label_and_nocloud_files(tmp_path: Path) -> None:
    path = build_seed(
        tmp_path / "seed.iso", instance_id="vm-1", hostname="web-1", ssh_authorized_keys=[KEY]
    )

    assert path == tmp_path / "seed.iso"
    got = read_iso(path)
    assert got["label"] == "cidata"
    assert got["joliet_label"] == "cidata"
    assert sorted(got["files"]) == ["meta-data", "user-data"]  # no network-config unless given
    assert got["joliet_names"] == ["meta-data", "user-data"]
    assert yaml.safe_load(got["files"]["meta-data"]) == {
        "instance-id": "vm-1",
        "local-hostname": "web-1",
    }
    assert cloud_config(got["files"]["user-data"]) == {
        "hostname": "web-1",
        "ssh_authorized_keys": [KEY],
    }


def test_seed_is_private_to_its_owner(tmp_path: Path) -> None:
    # user-data may carry passwords.
    path = build_seed(tmp_path / "seed.iso", instance_id="vm-1", hostname="web-1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_network_config_is_written_verbatim(tmp_path: Path) -> None:
    net = "# static address\nversion: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
    path = build_seed(tmp_path / "s.iso", instance_id="vm-1", hostname="h", network_config=net)
    assert read_iso(path)["files"]["network-config"] == net


@pytest.mark.skipif(shutil.which("isoinfo") is None, reason="isoinfo (genisoimage) not installed")
def test_standard_tool_sees_label_and_names(tmp_path: Path) -> None:
    path = build_seed(
        tmp_path / "seed.iso",
        instance_id="vm-1",
        hostname="web-1",
        network_config="version: 2\n",
    )

    def isoinfo(*args: str) -> str:
        return subprocess.run(
            ["isoinfo", "-i", str(path), *args], check=True, capture_output=True, text=True
        ).stdout

    assert "Volume id: cidata" in isoinfo("-d").splitlines()
    for listing in (isoinfo("-J", "-l"), isoinfo("-R", "-l")):
        names = {line.split()[-1] for line in listing.splitlines() if line.startswith("-")}
        assert names == {"meta-data", "user-data", "network-config"}
    meta = yaml.safe_load(isoinfo("-J", "-x", "/meta-data"))
    assert meta == {"instance-id": "vm-1", "local-hostname": "web-1"}


def test_user_cloud_config_is_merged(tmp_path: Path) -> None:
    user_data = (
        "#cloud-config\n"
        "packages: [nginx]\n"
        f"ssh_authorized_keys:\n  - {OTHER_KEY}\n  - {KEY}\n"
        "runcmd:\n  - [touch, /tmp/done]\n"
    )
    files = seed_files(
        instance_id="vm-1", hostname="web-1", ssh_authorized_keys=[KEY], user_data=user_data
    )

    assert cloud_config(files["user-data"].decode()) == {
        "hostname": "web-1",
        "ssh_authorized_keys": [KEY, OTHER_KEY],  # ours first, duplicates once
        "packages": ["nginx"],
        "runcmd": [["touch", "/tmp/done"]],
    }
    assert "public-keys" not in yaml.safe_load(files["meta-data"])


def test_hostname_from_user_cloud_config_wins() -> None:
    # cloud-init itself prefers a cloud-config hostname over meta-data local-hostname.
    files = seed_files(
        instance_id="vm-1", hostname="web-1", user_data="#cloud-config\nhostname: custom\n"
    )
    assert cloud_config(files["user-data"].decode())["hostname"] == "custom"
    assert yaml.safe_load(files["meta-data"])["local-hostname"] == "web-1"


@pytest.mark.parametrize("user_data", ["#cloud-config\n", "#cloud-config\n# only a comment\n"])
def test_empty_cloud_config_is_accepted(user_data: str) -> None:
    files = seed_files(instance_id="vm-1", hostname="h", user_data=user_data)
    assert cloud_config(files["user-data"].decode()) == {"hostname": "h"}


@pytest.mark.parametrize("user_data", ["", "  \n"])
def test_blank_user_data_means_none(user_data: str) -> None:
    files = seed_files(instance_id="vm-1", hostname="h", ssh_authorized_keys=[KEY])
    blank = seed_files(
        instance_id="vm-1", hostname="h", ssh_authorized_keys=[KEY], user_data=user_data
    )
    assert blank == files


@pytest.mark.parametrize(
    "user_data",
    [
        "#!/bin/sh\necho hello > /tmp/hello\n",
        "#cloud-config-archive\n- type: text/x-shellscript\n  content: '#!/bin/sh'\n",
        "#include\nhttp://127.0.0.1/config\n",
    ],
)
def test_other_user_data_is_verbatim_and_keys_go_to_meta_data(
    tmp_path: Path, user_data: str
) -> None:
    path = build_seed(
        tmp_path / "s.iso",
        instance_id="vm-1",
        hostname="web-1",
        ssh_authorized_keys=[KEY, OTHER_KEY],
        user_data=user_data,
    )
    files = read_iso(path)["files"]
    assert files["user-data"] == user_data
    assert yaml.safe_load(files["meta-data"]) == {
        "instance-id": "vm-1",
        "local-hostname": "web-1",
        "public-keys": [KEY, OTHER_KEY],
    }


def test_long_keys_stay_on_one_line() -> None:
    key = "ssh-rsa " + base64.b64encode(_ssh_string(b"ssh-rsa") + b"\1" * 1500).decode()
    text = seed_files(instance_id="i", hostname="h", ssh_authorized_keys=[key])["user-data"]
    assert f"- {key}\n" in text.decode()


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_real_keys_are_accepted(tmp_path: Path, kind: str) -> None:
    key_file = tmp_path / "id"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "u@h", "-f", str(key_file)], check=True
    )
    key = (tmp_path / "id.pub").read_text()  # with its trailing newline, as users paste it
    files = seed_files(instance_id="i", hostname="h", ssh_authorized_keys=[key])
    assert cloud_config(files["user-data"].decode())["ssh_authorized_keys"] == [key.strip()]


@pytest.mark.parametrize(
    ("kwargs", "loc"),
    [
        ({"hostname": ""}, ["hostname"]),
        ({"hostname": "-web"}, ["hostname"]),
        ({"hostname": "web-"}, ["hostname"]),
        ({"hostname": "web_1"}, ["hostname"]),
        ({"hostname": "a..b"}, ["hostname"]),
        ({"hostname": "a" * 64}, ["hostname"]),
        ({"hostname": ".".join(["a" * 63] * 4)}, ["hostname"]),
        ({"hostname": "web 1"}, ["hostname"]),
        ({"instance_id": ""}, ["instance_id"]),
        ({"instance_id": "../etc"}, ["instance_id"]),
        ({"instance_id": ".."}, ["instance_id"]),
        ({"ssh_authorized_keys": ["not a key"]}, ["ssh_authorized_keys", 0]),
        ({"ssh_authorized_keys": [KEY, "ssh-ed25519"]}, ["ssh_authorized_keys", 1]),
        ({"ssh_authorized_keys": ["ssh-ed25519 ***"]}, ["ssh_authorized_keys", 0]),
        (
            {"ssh_authorized_keys": [KEY.replace("ssh-ed25519", "ssh-rsa")]},
            ["ssh_authorized_keys", 0],
        ),
        ({"ssh_authorized_keys": [f"{KEY}\n{OTHER_KEY}"]}, ["ssh_authorized_keys", 0]),
        ({"ssh_authorized_keys": KEY}, ["ssh_authorized_keys"]),
        ({"user_data": "#cloud-config\n- a list\n"}, ["user_data"]),
        ({"user_data": "#cloud-config\nkey: [unclosed\n"}, ["user_data"]),
        (
            {"user_data": "#cloud-config\nssh_authorized_keys: [nope]\n"},
            ["user_data", "ssh_authorized_keys", 0],
        ),
        (
            {"user_data": f"#cloud-config\nssh_authorized_keys: {KEY}\n"},
            ["user_data", "ssh_authorized_keys"],
        ),
        ({"network_config": "just text"}, ["network_config"]),
        ({"network_config": ""}, ["network_config"]),
        ({"network_config": "version: [2"}, ["network_config"]),
    ],
)
def test_bad_input_is_invalid_with_field_path(
    tmp_path: Path, kwargs: dict[str, Any], loc: list[Any]
) -> None:
    args: dict[str, Any] = {"instance_id": "vm-1", "hostname": "web-1", **kwargs}
    with pytest.raises(Invalid) as info:
        build_seed(tmp_path / "seed.iso", **args)
    assert [e["loc"] for e in info.value.errors] == [loc]
    assert info.value.detail.startswith("invalid cloud-init data: ")
    assert list(tmp_path.iterdir()) == []


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(Invalid) as info:
        seed_files(instance_id="", hostname="-", ssh_authorized_keys=["x"], network_config="[]")
    assert [e["loc"] for e in info.value.errors] == [
        ["instance_id"],
        ["hostname"],
        ["ssh_authorized_keys", 0],
        ["network_config"],
    ]
    assert "(and 3 more)" in info.value.detail


def test_valid_names_pass() -> None:
    for hostname in ("a", "web-1", "Web-1.Example.COM", "1host", "x" * 63):
        seed_files(instance_id="i-0123.abc", hostname=hostname)


def test_rewrite_replaces_the_image_atomically(tmp_path: Path) -> None:
    path = tmp_path / "seed.iso"
    build_seed(path, instance_id="vm-1", hostname="old")
    build_seed(path, instance_id="vm-1", hostname="new")
    assert yaml.safe_load(read_iso(path)["files"]["meta-data"])["local-hostname"] == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["seed.iso"]  # no temp file left behind


def test_failed_write_keeps_the_old_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "seed.iso"
    build_seed(path, instance_id="vm-1", hostname="old")
    before = path.read_bytes()

    def disk_full(self: pycdlib.PyCdlib, fp: Any, *args: Any, **kwargs: Any) -> None:
        fp.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pycdlib.PyCdlib, "write_fp", disk_full)
    with pytest.raises(DriverError, match="No space left on device"):
        build_seed(path, instance_id="vm-1", hostname="new")

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["seed.iso"]


def test_missing_directory_is_a_driver_error(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="cannot write cloud-init seed"):
        build_seed(tmp_path / "nope" / "seed.iso", instance_id="vm-1", hostname="h")


def test_is_cloud_config() -> None:
    assert cloudinit.is_cloud_config("#cloud-config\na: 1")
    assert cloudinit.is_cloud_config("#cloud-config\r\na: 1")
    assert cloudinit.is_cloud_config("#cloud-config")
    assert not cloudinit.is_cloud_config("#cloud-config-archive\n[]")
    assert not cloudinit.is_cloud_config("#!/bin/sh")
    assert not cloudinit.is_cloud_config(" #cloud-config")
