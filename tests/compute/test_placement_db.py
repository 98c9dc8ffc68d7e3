"""Placement against a real database: claims, releases, and no lock-order deadlock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from novacron.compute.models import VM, Host
from novacron.compute.placement import Placement
from novacron.core.config import Settings
from novacron.core.database import Database


def _new_vm(db: Database, name: str, vcpus: int = 1) -> None:
    with db.session() as s:
        s.add(
            VM(
                id=f"vm-{name}",
                project_id="proj-default",
                name=name,
                name_key=name,
                state="building",
                vcpus=vcpus,
                memory_mib=256,
                disk_gib=1,
            )
        )


def _alloc(db: Database) -> int:
    with db.read() as s:
        return s.query(Host).one().alloc_vcpus


def test_claim_and_release_keep_the_host_allocation_exact(db: Database, tmp_path: Path) -> None:
    placement = Placement(Settings(data_dir=tmp_path))
    for i in range(5):
        _new_vm(db, f"p{i}", vcpus=2)
        with db.session() as s:
            vm = s.get(VM, f"vm-p{i}")
            assert vm is not None
            host = placement.schedule_and_claim(s, vm, placement.request_for(s, vm))
            assert host.name == "h1" and vm.claimed
    assert _alloc(db) == 1 + 5 * 2  # vm-1 from the fixture holds 1
    with db.session() as s:
        vm = s.get(VM, "vm-p0")
        assert vm is not None
        placement.release(s, vm)
        placement.release(s, vm)  # a second release is a no-op
    assert _alloc(db) == 9


def test_a_release_holding_the_host_row_does_not_deadlock_a_placement(
    db: Database, tmp_path: Path
) -> None:
    placement = Placement(Settings(data_dir=tmp_path))
    _new_vm(db, "waiting")
    released, placed = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def release_slowly() -> None:
        try:
            with db.session() as s:
                vm = s.get(VM, "vm-1")
                assert vm is not None
                placement.release(s, vm)  # holds the host row until commit
                released.set()
                time.sleep(0.5)  # the placement now waits for the row...
                placement.invalidate()  # ...so the placement must not hold this lock
        except BaseException as exc:
            errors.append(exc)

    def place() -> None:
        try:
            released.wait(5)
            with db.session() as s:
                vm = s.get(VM, "vm-waiting")
                assert vm is not None
                placement.schedule_and_claim(s, vm, placement.request_for(s, vm))
            placed.set()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=release_slowly), threading.Thread(target=place)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads), "placement and release deadlocked"
    assert errors == [] and placed.is_set()
    assert _alloc(db) == 1  # vm-1 released, vm-waiting claimed
