"""HostTable: every host's attributes as numpy arrays, filtered and weighed with vector ops.

One array per attribute over all hosts (index ``i`` is one host), so a
placement is a handful of whole-array comparisons and arithmetic, never a
Python loop over hosts. Per-label and per-trait boolean masks are built
lazily on first use and kept up to date on :meth:`HostTable.upsert`, so
repeated requests for the same label or trait cost one array ``&``.

Host order is insertion order; it only matters to break ties between equally
scored hosts (the lowest index wins), which keeps placement deterministic.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from novacron.core.errors import NoCapacity

from .views import (
    AFFINITY,
    ANTI_AFFINITY,
    DOWN,
    EXCLUDED,
    LABELS_MISMATCH,
    MAINTENANCE,
    MISSING_TRAITS,
    SHORT_DISK,
    SHORT_MEMORY,
    SHORT_VCPUS,
    FilterReport,
    HostView,
    PlacementRequest,
    Weights,
)

_G = TypeVar("_G", bound=np.generic)
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_UP, _DOWN, _MAINTENANCE = 0, 1, 2
_STATE_CODES = {"up": _UP, "down": _DOWN, "maintenance": _MAINTENANCE}
_SHORT = (SHORT_VCPUS, SHORT_MEMORY, SHORT_DISK)
_DEFAULT_WEIGHTS = Weights()
_INITIAL_SIZE = 16


def effective_capacity(total: int, ratio: float) -> int:
    """``floor(total * ratio)``, tolerant of float noise (``3 * 1.1`` is 3, ``10 * 0.3`` is 3)."""
    return max(0, math.floor(total * ratio + 1e-9))


def _request_vector(request: PlacementRequest) -> tuple[int, int, int]:
    return (request.vcpus, request.memory_mib, request.disk_gib)


def _no_capacity(request: PlacementRequest, report: FilterReport) -> NoCapacity:
    message = (
        f"no host fits {request.vcpus} vCPU / {request.memory_mib} MiB / "
        f"{request.disk_gib} GiB: " + report.message()
    )
    if report.rejected.get(MISSING_TRAITS) and request.traits:
        message += f" (required traits: {', '.join(sorted(request.traits))})"
    return NoCapacity(message)


class HostTable:
    """The scheduler's in-memory view of the fleet.

    Resources are indexed 0 = vCPU, 1 = memory (MiB), 2 = disk (GiB).
    Effective capacity is ``floor(total * allocation_ratio)``; a host fits a
    request when ``alloc + request <= capacity`` for every resource.

    Thread-safe: every public method holds one re-entrant lock, so a claim
    never interleaves with a ranking. Claims here are bookkeeping only; the
    caller's atomic claim in the database is what prevents overcommit across
    server replicas.
    """

    def __init__(self, hosts: Iterable[HostView] = ()) -> None:
        self._lock = threading.RLock()
        self._n = 0
        self._size = _INITIAL_SIZE
        self._ids: list[str] = []
        self._views: list[HostView] = []
        self._index: dict[str, int] = {}
        self._by_name: dict[str, set[str]] = {}
        self._state = np.zeros(self._size, dtype=np.int8)
        self._up = np.zeros(self._size, dtype=np.bool_)
        self._cap = np.zeros((3, self._size), dtype=np.int64)
        self._alloc = np.zeros((3, self._size), dtype=np.int64)
        self._free = np.zeros((3, self._size), dtype=np.int64)
        # Capacity as a divisor: inf where the capacity is 0, so utilisation
        # of a resource the host lacks is 0 instead of a division by zero.
        self._div = np.zeros((3, self._size), dtype=np.float64)
        self._label_masks: dict[tuple[str, str], BoolArray] = {}
        self._trait_masks: dict[str, BoolArray] = {}
        for host in hosts:
            self.upsert(host)

    # ------------------------------------------------------------------ bookkeeping

    def __len__(self) -> int:
        return self._n

    def __contains__(self, host_id: object) -> bool:
        return host_id in self._index

    def __iter__(self) -> Iterator[HostView]:
        """Current views (allocations included), in table order."""
        with self._lock:
            views = [self._view(i) for i in range(self._n)]
        return iter(views)

    def upsert(self, host: HostView) -> None:
        """Add ``host``, or replace the host with the same id (its allocations included)."""
        state = _STATE_CODES.get(host.state, _DOWN)
        caps = (
            effective_capacity(host.vcpus, host.cpu_allocation_ratio),
            effective_capacity(host.memory_mib, host.ram_allocation_ratio),
            effective_capacity(host.disk_gib, host.disk_allocation_ratio),
        )
        allocs = (host.alloc_vcpus, host.alloc_memory_mib, host.alloc_disk_gib)
        with self._lock:
            i = self._index.get(host.id)
            if i is None:
                if self._n == self._size:
                    self._grow(2 * self._size)
                i = self._n
                self._n += 1
                self._ids.append(host.id)
                self._views.append(host)
                self._index[host.id] = i
            else:
                self._unname(self._views[i])
                self._views[i] = host
            self._by_name.setdefault(host.name, set()).add(host.id)
            self._state[i] = state
            self._up[i] = state == _UP
            for r in range(3):
                self._cap[r, i] = caps[r]
                self._alloc[r, i] = allocs[r]
                self._free[r, i] = caps[r] - allocs[r]
                self._div[r, i] = caps[r] if caps[r] > 0 else np.inf
            for (key, value), mask in self._label_masks.items():
                mask[i] = host.labels.get(key) == value
            for trait, mask in self._trait_masks.items():
                mask[i] = trait in host.traits

    def remove(self, host_id: str) -> None:
        """Forget a host. O(number of hosts): later hosts move up one place."""
        with self._lock:
            i = self._index.pop(host_id)
            self._unname(self._views[i])
            n = self._n
            for arr in (self._state, self._up):
                arr[i : n - 1] = arr[i + 1 : n]
            for arr2 in (self._cap, self._alloc, self._free, self._div):
                arr2[:, i : n - 1] = arr2[:, i + 1 : n]
            del self._ids[i]
            del self._views[i]
            for j in range(i, n - 1):
                self._index[self._ids[j]] = j
            self._n = n - 1
            self._label_masks.clear()
            self._trait_masks.clear()

    def get(self, host_id: str) -> HostView:
        """The host's current view, allocations included. KeyError if unknown."""
        with self._lock:
            return self._view(self._index[host_id])

    def claim(self, host_id: str, vcpus: int, memory_mib: int, disk_gib: int) -> None:
        """Add to the host's allocations (no capacity check: that is the filters' job)."""
        amounts = (vcpus, memory_mib, disk_gib)
        if min(amounts) < 0:
            raise ValueError("claim amounts must be >= 0")
        with self._lock:
            i = self._index[host_id]
            for r in range(3):
                if amounts[r]:
                    self._alloc[r, i] += amounts[r]
                    self._free[r, i] -= amounts[r]

    def release(self, host_id: str, vcpus: int, memory_mib: int, disk_gib: int) -> None:
        """Subtract from the host's allocations, never below 0."""
        amounts = (vcpus, memory_mib, disk_gib)
        if min(amounts) < 0:
            raise ValueError("release amounts must be >= 0")
        with self._lock:
            i = self._index[host_id]
            for r in range(3):
                if amounts[r]:
                    alloc = max(0, int(self._alloc[r, i]) - amounts[r])
                    self._alloc[r, i] = alloc
                    self._free[r, i] = self._cap[r, i] - alloc

    # ------------------------------------------------------------------ placement

    def rank(
        self, request: PlacementRequest, weights: Weights = _DEFAULT_WEIGHTS, limit: int = 5
    ) -> list[str]:
        """Ids of hosts that pass every filter, best first, at most ``limit``.

        Raises NoCapacity, saying per filter why hosts were rejected, when none passes.
        """
        if limit < 1:
            raise ValueError("limit must be >= 1")
        with self._lock:
            self._check_force_host(request)
            mask = self._pass_mask(request)
            cand = np.flatnonzero(mask)
            if cand.size == 0:
                raise _no_capacity(request, self._explain(request))
            score = self._score(request, weights)[cand]
            if limit == 1:
                # argmax returns the first maximum: the lowest host index wins ties.
                return [self._ids[int(cand[int(np.argmax(score))])]]
            m = cand.size
            k = min(limit, m)
            if m > k:
                # k-th best score, then everything strictly better plus the
                # lowest-index hosts that tie with it.
                threshold = np.partition(score, m - k)[m - k]
                better = np.flatnonzero(score > threshold)
                ties = np.flatnonzero(score == threshold)[: k - better.size]
                sel = np.concatenate((better, ties))
            else:
                sel = np.arange(m)
            order = sel[np.lexsort((sel, -score[sel]))]
            return [self._ids[int(cand[j])] for j in order]

    def select(self, request: PlacementRequest, weights: Weights = _DEFAULT_WEIGHTS) -> str:
        """The best host for ``request``; raises NoCapacity when none passes."""
        return self.rank(request, weights, limit=1)[0]

    def explain(self, request: PlacementRequest) -> FilterReport:
        """How many hosts each filter rejected (each host under the first that rejects it)."""
        with self._lock:
            return self._explain(request)

    # ------------------------------------------------------------------ internals

    def _view(self, i: int) -> HostView:
        return dataclasses.replace(
            self._views[i],
            alloc_vcpus=int(self._alloc[0, i]),
            alloc_memory_mib=int(self._alloc[1, i]),
            alloc_disk_gib=int(self._alloc[2, i]),
        )

    def _unname(self, view: HostView) -> None:
        ids = self._by_name.get(view.name)
        if ids is not None:
            ids.discard(view.id)
            if not ids:
                del self._by_name[view.name]

    def _grow(self, size: int) -> None:
        def grow1(arr: npt.NDArray[_G]) -> npt.NDArray[_G]:
            new: npt.NDArray[_G] = np.zeros((*arr.shape[:-1], size), dtype=arr.dtype)
            new[..., : arr.shape[-1]] = arr
            return new

        self._state = grow1(self._state)
        self._up = grow1(self._up)
        self._cap = grow1(self._cap)
        self._alloc = grow1(self._alloc)
        self._free = grow1(self._free)
        self._div = grow1(self._div)
        for key, mask in self._label_masks.items():
            self._label_masks[key] = grow1(mask)
        for trait, mask in self._trait_masks.items():
            self._trait_masks[trait] = grow1(mask)
        self._size = size

    def _label_mask(self, key: str, value: str) -> BoolArray:
        mask = self._label_masks.get((key, value))
        if mask is None:
            mask = np.zeros(self._size, dtype=np.bool_)
            mask[: self._n] = np.fromiter(
                (v.labels.get(key) == value for v in self._views), dtype=np.bool_, count=self._n
            )
            self._label_masks[(key, value)] = mask
        return mask[: self._n]

    def _trait_mask(self, trait: str) -> BoolArray:
        mask = self._trait_masks.get(trait)
        if mask is None:
            mask = np.zeros(self._size, dtype=np.bool_)
            mask[: self._n] = np.fromiter(
                (trait in v.traits for v in self._views), dtype=np.bool_, count=self._n
            )
            self._trait_masks[trait] = mask
        return mask[: self._n]

    def _check_force_host(self, request: PlacementRequest) -> None:
        if request.force_host is not None and not self._forced_indices(request.force_host):
            raise NoCapacity(f"no host named {request.force_host}")

    def _forced_indices(self, force_host: str) -> list[int]:
        i = self._index.get(force_host)
        if i is not None:
            return [i]
        return sorted(self._index[h] for h in self._by_name.get(force_host, ()))

    def _indices(self, host_ids: Iterable[str]) -> list[int]:
        index = self._index
        return [index[h] for h in host_ids if h in index]

    def _group_members(self, request: PlacementRequest) -> tuple[list[int], list[int]]:
        """Table indices of hosts holding group members, and how many each holds."""
        idx: list[int] = []
        counts: list[int] = []
        for host_id, count in request.group_hosts.items():
            i = self._index.get(host_id)
            if i is not None and count > 0:
                idx.append(i)
                counts.append(count)
        return idx, counts

    def _allowed(self, request: PlacementRequest) -> BoolArray | None:
        """exclude / force_host as a mask, or None when neither is set."""
        if request.force_host is None and not request.exclude:
            return None
        n = self._n
        if request.force_host is not None:
            allowed = np.zeros(n, dtype=np.bool_)
            allowed[self._forced_indices(request.force_host)] = True
        else:
            allowed = np.ones(n, dtype=np.bool_)
        if request.exclude:
            allowed[self._indices(request.exclude)] = False
        return allowed

    def _group_mask(self, request: PlacementRequest) -> tuple[str, BoolArray] | None:
        """The hard group filter as (reason, passing mask), or None when not active."""
        if request.group_policy is None or not request.group_strict:
            return None
        n = self._n
        idx, _ = self._group_members(request)
        if request.group_policy == "anti-affinity":
            passing = np.ones(n, dtype=np.bool_)
            passing[idx] = False
            return ANTI_AFFINITY, passing
        if not idx:  # no member placed yet: the first may go anywhere
            return None
        passing = np.zeros(n, dtype=np.bool_)
        passing[idx] = True
        return AFFINITY, passing

    def _pass_mask(self, request: PlacementRequest) -> BoolArray:
        """Hosts passing every filter: the fast path of rank(); _filters() must agree."""
        n = self._n
        free = self._free
        req = _request_vector(request)
        mask = free[0, :n] >= req[0]
        mask &= free[1, :n] >= req[1]
        mask &= free[2, :n] >= req[2]
        mask &= self._up[:n]
        for trait in request.traits:
            mask &= self._trait_mask(trait)
        for key, value in request.labels.items():
            mask &= self._label_mask(key, value)
        allowed = self._allowed(request)
        if allowed is not None:
            mask &= allowed
        group = self._group_mask(request)
        if group is not None:
            mask &= group[1]
        return mask

    def _filters(self, request: PlacementRequest) -> Iterator[tuple[str, BoolArray | None]]:
        """(reason, passing mask) per filter, in filter order; None when a filter is inactive."""
        n = self._n
        yield EXCLUDED, self._allowed(request)
        state = self._state[:n]
        yield DOWN, state != _DOWN
        yield MAINTENANCE, state != _MAINTENANCE
        traits: BoolArray | None = None
        for trait in request.traits:
            tm = self._trait_mask(trait)
            traits = tm.copy() if traits is None else traits & tm
        yield MISSING_TRAITS, traits
        labels: BoolArray | None = None
        for key, value in request.labels.items():
            lm = self._label_mask(key, value)
            labels = lm.copy() if labels is None else labels & lm
        yield LABELS_MISMATCH, labels
        req = _request_vector(request)
        for r in range(3):
            yield _SHORT[r], self._free[r, :n] >= req[r]
        group = self._group_mask(request)
        yield ANTI_AFFINITY, group[1] if group is not None and group[0] == ANTI_AFFINITY else None
        yield AFFINITY, group[1] if group is not None and group[0] == AFFINITY else None

    def _explain(self, request: PlacementRequest) -> FilterReport:
        n = self._n
        remaining = np.ones(n, dtype=np.bool_)
        rejected: dict[str, int] = {}
        for reason, passing in self._filters(request):
            if passing is None:
                rejected[reason] = 0
                continue
            rejected[reason] = int(np.count_nonzero(remaining & ~passing))
            remaining &= passing
        return FilterReport(total=n, rejected=rejected, passed=int(np.count_nonzero(remaining)))

    def _score(self, request: PlacementRequest, weights: Weights) -> FloatArray:
        """Higher is better, over all hosts (the caller keeps only passing ones).

        Utilisation after placement ``u_r = (alloc_r + req_r) / capacity_r``;
        pack scores ``sum(w_r * u_r)``, spread ``sum(w_r * (1 - u_r))`` (computed
        as ``-sum(w_r * u_r)``, which orders hosts the same way).
        """
        n = self._n
        req = _request_vector(request)
        total: FloatArray | None = None
        for r, w in enumerate((weights.cpu, weights.ram, weights.disk)):
            if w == 0:
                continue
            u = (self._alloc[r, :n] + req[r]) / self._div[r, :n]
            if w != 1:
                u *= w
            if total is None:
                total = u
            else:
                total += u
        score: FloatArray = np.zeros(n) if total is None else total
        if weights.strategy == "spread":
            np.negative(score, out=score)
        if request.group_policy is not None and not request.group_strict and weights.group:
            idx, counts = self._group_members(request)
            if idx:
                bonus = weights.group * np.asarray(counts, dtype=np.float64) / (1 + max(counts))
                if request.group_policy == "anti-affinity":
                    score[idx] -= bonus
                else:
                    score[idx] += bonus
        return score
