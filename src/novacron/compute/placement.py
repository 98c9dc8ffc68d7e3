"""Placement against the database: a cached host table, then an atomic claim.

The scheduler ranks hosts from an in-memory ``HostTable`` (refreshed from the
database every few seconds). The database stays the authority: a claim is one
conditional UPDATE that succeeds only if the host still has room, so concurrent
requests, threads or replicas can never overcommit a host; a failed claim
refreshes that host and tries the next candidate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import Counter

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from novacron.compute import quotas
from novacron.compute.models import VM, Host, PlacementGroup
from novacron.compute.scheduler import HostTable, HostView, PlacementRequest, Weights
from novacron.core.config import Settings
from novacron.core.errors import NoCapacity

REFRESH_S = 5.0
CLAIM_ROUNDS = 10


def host_view(h: Host) -> HostView:
    return HostView(
        id=h.id,
        name=h.name,
        state=h.state,
        vcpus=h.vcpus,
        memory_mib=h.memory_mib,
        disk_gib=h.disk_gib,
        cpu_allocation_ratio=h.cpu_allocation_ratio,
        ram_allocation_ratio=h.ram_allocation_ratio,
        disk_allocation_ratio=h.disk_allocation_ratio,
        alloc_vcpus=h.alloc_vcpus,
        alloc_memory_mib=h.alloc_memory_mib,
        alloc_disk_gib=h.alloc_disk_gib,
        labels=dict(h.labels or {}),
        traits=frozenset(h.capabilities or ()),
    )


class Placement:
    """One per server process; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.weights = Weights(strategy=settings.placement_strategy)
        self._lock = threading.Lock()
        self._table = HostTable()
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = 0.0

    def _current(self, session: Session, force: bool = False) -> HostTable:
        """The host table, reloaded when stale. ``_lock`` guards only the reload and swap:
        no SQL that can wait on a row lock runs under it (that could deadlock against a
        transaction holding a host row while it waits for the lock)."""
        with self._lock:
            if force or time.monotonic() - self._loaded_at >= REFRESH_S:
                self._table = HostTable(host_view(h) for h in session.scalars(select(Host)))
                self._loaded_at = time.monotonic()
            return self._table

    def _age(self) -> float:
        with self._lock:
            return time.monotonic() - self._loaded_at

    def request_for(
        self, session: Session, vm: VM, exclude: frozenset[str] = frozenset()
    ) -> PlacementRequest:
        group_policy, strict, group_hosts = None, True, {}
        if vm.group_id:
            stmt = select(PlacementGroup).where(PlacementGroup.id == vm.group_id)
            if session.get_bind().dialect.name == "postgresql":
                # Serialize placements within one group so two members can't both
                # take the same host under anti-affinity.
                stmt = stmt.with_for_update()
            group = session.scalar(stmt)
            if group is not None:
                group_policy, strict = group.policy, group.strict
                members = session.scalars(
                    select(VM.host_id).where(
                        VM.group_id == group.id,
                        VM.id != vm.id,
                        VM.claimed.is_(True),
                        VM.host_id.is_not(None),
                    )
                )
                group_hosts = dict(Counter(h for h in members if h))
        return PlacementRequest(
            vcpus=vm.vcpus,
            memory_mib=vm.memory_mib,
            disk_gib=vm.disk_gib,
            labels=dict(vm.host_labels or {}),
            traits=frozenset(vm.required_traits or ()),
            group_policy=group_policy,
            group_strict=strict,
            group_hosts=group_hosts,
            exclude=exclude,
            force_host=vm.requested_host,
        )

    def schedule_and_claim(self, session: Session, vm: VM, request: PlacementRequest) -> Host:
        """Choose a host and claim the VM's resources on it, in ``session``'s transaction,
        within the VM's project quota."""
        quotas.check(session, vm)
        host = self._rank_and_claim(session, vm, request)
        vm.host_id, vm.claimed = host.id, True
        return host

    def claim_destination(
        self,
        session: Session,
        vm: VM,
        source: Host,
        to_host_id: str | None,
        *,
        traits: frozenset[str] = frozenset(),
    ) -> Host:
        """A live migration's destination for ``vm``: any host but its own (or
        ``to_host_id``) that can receive it — same driver and accelerator, live
        migration supported, the extra capabilities ``traits`` (e.g. ``migration-tls``)
        — with the VM's resources claimed there. ``vm`` keeps its host and claim."""
        request = self.request_for(session, vm, frozenset({source.id}))
        labels = dict(request.labels)
        if "accel" in (source.labels or {}):
            labels["accel"] = source.labels["accel"]
        request = dataclasses.replace(
            request,
            labels=labels,
            traits=request.traits | {"live-migration", source.driver} | traits,
            force_host=to_host_id,
        )
        return self._rank_and_claim(session, vm, request)

    def release_on(self, session: Session, vm: VM, host_id: str) -> None:
        """Return a destination claim (a migration that did not happen)."""
        release(session, host_id, vm.vcpus, vm.memory_mib, vm.disk_gib)
        with self._lock:
            table = self._table
        with contextlib.suppress(KeyError):
            table.release(host_id, vm.vcpus, vm.memory_mib, vm.disk_gib)

    def _rank_and_claim(self, session: Session, vm: VM, request: PlacementRequest) -> Host:
        for round_no in range(CLAIM_ROUNDS):
            # After a lost race, rank on fresh data: if the hosts really are full now,
            # rank() raises NoCapacity with the per-filter reasons.
            table = self._current(session, force=round_no > 0)
            try:
                ranked = table.rank(request, self.weights, limit=5)
            except NoCapacity:
                # A stale table may miss capacity another replica released.
                if self._age() < 0.5:
                    raise
                table = self._current(session, force=True)
                ranked = table.rank(request, self.weights, limit=5)
            for host_id in ranked:
                if claim_in_savepoint(session, host_id, vm.vcpus, vm.memory_mib, vm.disk_gib):
                    with contextlib.suppress(KeyError):  # a reload may have dropped it
                        table.claim(host_id, vm.vcpus, vm.memory_mib, vm.disk_gib)
                    host = session.get(Host, host_id, populate_existing=True)
                    assert host is not None
                    return host
        raise NoCapacity("hosts kept filling up while placing this VM; try again")

    def release(self, session: Session, vm: VM) -> None:
        """Return the VM's resources to its host (same transaction as the VM change)."""
        if not vm.claimed or not vm.host_id:
            return
        release(session, vm.host_id, vm.vcpus, vm.memory_mib, vm.disk_gib)
        vm.claimed = False
        with self._lock:
            table = self._table
        # The host may not be in this process's table yet.
        with contextlib.suppress(KeyError):
            table.release(vm.host_id, vm.vcpus, vm.memory_mib, vm.disk_gib)


def claim_in_savepoint(
    session: Session, host_id: str, vcpus: int, memory_mib: int, disk_gib: int
) -> bool:
    """:func:`claim`, undone to a savepoint when it fails.

    On PostgreSQL an UPDATE that waited for a concurrent claim and then found the host
    full still keeps that row locked until the transaction ends; holding it while
    claiming the next host is how two placements and a heartbeat deadlock. Rolling
    back to the savepoint releases the lock.
    """
    savepoint = session.begin_nested()
    if claim(session, host_id, vcpus, memory_mib, disk_gib):
        savepoint.commit()
        return True
    savepoint.rollback()
    return False


def claim(session: Session, host_id: str, vcpus: int, memory_mib: int, disk_gib: int) -> bool:
    res = session.execute(
        update(Host)
        .where(
            Host.id == host_id,
            Host.status == "up",
            Host.maintenance.is_(False),
            Host.alloc_vcpus + vcpus <= Host.vcpus * Host.cpu_allocation_ratio,
            Host.alloc_memory_mib + memory_mib <= Host.memory_mib * Host.ram_allocation_ratio,
            Host.alloc_disk_gib + disk_gib <= Host.disk_gib * Host.disk_allocation_ratio,
        )
        .values(
            alloc_vcpus=Host.alloc_vcpus + vcpus,
            alloc_memory_mib=Host.alloc_memory_mib + memory_mib,
            alloc_disk_gib=Host.alloc_disk_gib + disk_gib,
        )
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


def release(session: Session, host_id: str, vcpus: int, memory_mib: int, disk_gib: int) -> None:
    session.execute(
        update(Host)
        .where(Host.id == host_id)
        .values(
            alloc_vcpus=Host.alloc_vcpus - vcpus,
            alloc_memory_mib=Host.alloc_memory_mib - memory_mib,
            alloc_disk_gib=Host.alloc_disk_gib - disk_gib,
        )
        .execution_options(synchronize_session=False)
    )
