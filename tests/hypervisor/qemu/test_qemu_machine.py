"""Golden tests: a machine description in, the exact QEMU argv out.

To accept an intended change, run with ``NOVACRON_UPDATE_GOLDEN=1`` and review the diff
of ``tests/hypervisor/qemu/golden/*.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from novacron.hypervisor.qemu.machine import MachineConfig, Nic, PortForward, build_argv

GOLDEN = Path(__file__).parent / "golden"
RUN = Path("/run/nc")
VM_DIR = Path("/var/lib/novacron/vms/vm-1")


def _base(**overrides: object) -> MachineConfig:
    values: dict[str, object] = {
        "vm_id": "vm-1",
        "name": "web-1",
        "uuid": "6f1f3a3e-0000-4000-8000-000000000001",
        "vcpus": 2,
        "memory_mib": 1024,
        "accel": "tcg",
        "qmp_socket": RUN / "vm-1.qmp",
        "serial_socket": RUN / "vm-1.serial",
        "serial_log": VM_DIR / "serial.log",
        "pidfile": VM_DIR / "qemu.pid",
        "disk": VM_DIR / "disk.qcow2",
        "nics": (Nic(mac="52:54:00:12:34:56"),),
    }
    values.update(overrides)
    return MachineConfig(**values)  # type: ignore[arg-type]


CASES = {
    "tcg-disk-user-net": _base(),
    "kvm-cloud-image-with-seed-and-forwards": _base(
        accel="kvm",
        seed_iso=VM_DIR / "seed.iso",
        nics=(
            Nic(
                mac="52:54:00:12:34:56",
                forwards=(PortForward(2222, 22), PortForward(8053, 53, proto="udp")),
            ),
        ),
    ),
    "tiny-kernel-boot": _base(
        name="tiny",
        vcpus=1,
        memory_mib=256,
        kernel=Path("/images/img-1/kernel"),
        initrd=Path("/images/img-1/initrd"),
        cmdline="console=ttyS0 panic=-1 novacron.hostname=tiny novacron.dirty_mbps=50",
    ),
    "bridge-tap": _base(nics=(Nic(mac="52:54:00:ab:cd:ef", mode="bridge", tap="nc0123456789ab"),)),
    "revert-to-ram-snapshot": _base(loadvm="before-upgrade"),
    "incoming-migration": _base(incoming="defer"),
    "no-disk": _base(disk=None, nics=()),
    "comma-in-name-and-paths": _base(
        name="a,b", serial_log=Path("/data/x,y/serial.log"), disk=Path("/data/x,y/disk.qcow2")
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_argv_matches_golden(case: str) -> None:
    argv = build_argv(CASES[case])
    path = GOLDEN / f"{case}.json"
    if os.environ.get("NOVACRON_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(argv, indent=1) + "\n")
    assert argv == json.loads(path.read_text())


def test_every_golden_file_has_a_case() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(CASES)


def test_commas_are_escaped_in_option_values_but_not_in_json_blockdevs() -> None:
    argv = build_argv(CASES["comma-in-name-and-paths"])
    assert "guest=a,,b,debug-threads=on" in argv
    assert any("logfile=/data/x,,y/serial.log" in a for a in argv)
    blockdev = json.loads(argv[argv.index("-blockdev") + 1])
    assert blockdev["file"]["filename"] == "/data/x,y/disk.qcow2"


def test_kvm_uses_host_cpu_and_tcg_a_portable_model() -> None:
    kvm, tcg = build_argv(_base(accel="kvm")), build_argv(_base())
    assert kvm[kvm.index("-accel") + 1] == "kvm" and kvm[kvm.index("-cpu") + 1] == "host"
    assert tcg[tcg.index("-accel") + 1] == "tcg,thread=multi"
    assert tcg[tcg.index("-cpu") + 1] == "qemu64"


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="accelerator"):
        build_argv(_base(accel="hvf"))
    with pytest.raises(ValueError, match="tap"):
        build_argv(_base(nics=(Nic(mac="52:54:00:00:00:01", mode="bridge"),)))
    with pytest.raises(ValueError, match="mode"):
        build_argv(_base(nics=(Nic(mac="52:54:00:00:00:01", mode="vde"),)))
