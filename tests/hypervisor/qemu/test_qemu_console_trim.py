"""Console logs stay bounded: the newest half is kept once a log outgrows its limit."""

from __future__ import annotations

from pathlib import Path

from novacron.hypervisor.qemu.driver import trim_console


def test_a_small_log_is_left_alone(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    log.write_bytes(b"boot\n" * 10)
    assert not trim_console(log, max_bytes=1000)
    assert log.read_bytes() == b"boot\n" * 10


def test_a_large_log_keeps_its_newest_half(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    lines = b"".join(f"NOVACRON-HB {n}\n".encode() for n in range(1, 2001))
    log.write_bytes(lines)
    assert trim_console(log, max_bytes=4096)
    kept = log.read_bytes()
    assert kept.startswith(b"[... older console output trimmed by novacron ...]\n")
    assert kept.endswith(b"NOVACRON-HB 2000\n")
    assert len(kept) < 4096
    # Appending (as QEMU does with O_APPEND) continues after the kept tail.
    with log.open("ab") as f:
        f.write(b"NOVACRON-HB 2001\n")
    assert log.read_bytes().endswith(b"NOVACRON-HB 2000\nNOVACRON-HB 2001\n")


def test_a_missing_log_is_not_an_error(tmp_path: Path) -> None:
    assert not trim_console(tmp_path / "none.log")
