"""Choosing the accelerator: KVM only after a real guest booted with it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from novacron.core.errors import Invalid
from novacron.hypervisor.qemu.accel import (
    KVM_DEVICE,
    ProbeGuest,
    choose_accel,
    kvm_unusable,
    probe_boot,
    qemu_version,
)

GUEST = ProbeGuest(Path("/k"), Path("/i"), "console=ttyS0", "6.1.0-test")


def choose(
    mode: str, tmp_path: Path, *, device: Path, result: tuple[bool, str] = (True, "ok")
) -> Any:
    probes: list[ProbeGuest] = []

    async def guest() -> ProbeGuest:
        return GUEST

    async def probe(g: ProbeGuest) -> tuple[bool, str]:
        probes.append(g)
        return result

    choice = asyncio.run(
        choose_accel(
            mode,
            cache_file=tmp_path / "accel.json",
            qemu_version="QEMU 10",
            probe_guest=guest,
            probe=probe,
            device=device,
        )
    )
    return choice, probes


@pytest.fixture
def fake_kvm(tmp_path: Path) -> Path:
    device = tmp_path / "kvm"
    device.write_text("")
    return device


def test_no_device_means_tcg_without_probing(tmp_path: Path) -> None:
    choice, probes = choose("auto", tmp_path, device=tmp_path / "missing")
    assert choice.accel == "tcg" and "does not exist" in choice.reason
    assert probes == []


def test_a_device_that_boots_a_guest_means_kvm(tmp_path: Path, fake_kvm: Path) -> None:
    choice, probes = choose("auto", tmp_path, device=fake_kvm, result=(True, "booted in 0.8s"))
    assert choice.accel == "kvm" and "booted in 0.8s" in choice.reason
    assert probes == [GUEST]


def test_a_device_that_cannot_boot_a_guest_means_tcg(tmp_path: Path, fake_kvm: Path) -> None:
    fail = (False, "QEMU exited: KVM internal error. Suberror: 1")
    choice, _ = choose("auto", tmp_path, device=fake_kvm, result=fail)
    assert choice.accel == "tcg" and "KVM internal error" in choice.reason


def test_the_verdict_is_cached_per_qemu_and_kernel(tmp_path: Path, fake_kvm: Path) -> None:
    choose("auto", tmp_path, device=fake_kvm, result=(False, "hang"))
    again, probes = choose("auto", tmp_path, device=fake_kvm, result=(True, "ok"))
    assert again.accel == "tcg" and again.reason.endswith("(cached)") and probes == []


def test_forced_modes(tmp_path: Path, fake_kvm: Path) -> None:
    assert choose("tcg", tmp_path, device=fake_kvm)[0].accel == "tcg"
    assert choose("kvm", tmp_path, device=fake_kvm)[0].accel == "kvm"
    with pytest.raises(Invalid, match="KVM requested but"):
        choose("kvm", tmp_path, device=tmp_path / "missing")
    with pytest.raises(Invalid, match="unknown accelerator"):
        choose("hvf", tmp_path, device=fake_kvm)


def test_a_probe_guest_that_cannot_be_built_means_tcg(tmp_path: Path, fake_kvm: Path) -> None:
    async def no_guest() -> ProbeGuest:
        raise RuntimeError("apt-get download failed")

    choice = asyncio.run(
        choose_accel(
            "auto", cache_file=None, qemu_version="x", probe_guest=no_guest, device=fake_kvm
        )
    )
    assert choice.accel == "tcg" and "apt-get download failed" in choice.reason


@pytest.mark.qemu
@pytest.mark.slow
def test_real_probe_on_this_machine(tiny_image: Any, tmp_path: Path) -> None:
    """TCG always boots the probe guest; ``auto`` picks KVM exactly when KVM boots it too."""
    guest = ProbeGuest(tiny_image.kernel, tiny_image.initrd, tiny_image.cmdline, "t")
    ok, detail = asyncio.run(probe_boot(guest, "tcg"))
    assert ok, detail
    assert asyncio.run(qemu_version()).startswith("QEMU emulator version")
    if kvm_unusable(KVM_DEVICE):
        return
    kvm_ok, kvm_detail = asyncio.run(probe_boot(guest, "kvm", timeout_s=20))

    async def guest_fn() -> ProbeGuest:
        return guest

    choice = asyncio.run(
        choose_accel(
            "auto",
            cache_file=None,
            qemu_version="x",
            probe_guest=guest_fn,
            probe=lambda g: probe_boot(g, "kvm", timeout_s=20),
        )
    )
    assert choice.accel == ("kvm" if kvm_ok else "tcg"), (choice, kvm_detail)
