"""The adaptive live-migration policy: pure code, no I/O.

QEMU's defaults (128 MiB/s cap, 300 ms downtime limit, plain pre-copy) are made for a
LAN and an idle guest. On a slow link a busy guest dirties memory faster than the link
drains it, and pre-copy never converges. This policy

1. **plans** before the migration starts, from what is known (RAM size, the guest's
   dirty rate from ``calc-dirty-rate``, the link's rate if the operator gave it):
   capabilities that must be set on both sides before the stream opens (post-copy is
   *armed* whenever allowed — arming costs nothing — multifd on fast links, xbzrle or
   auto-converge only where post-copy is not allowed), the bandwidth caps (both
   pre-copy and post-copy phases) and a downtime limit below the objective;
2. **adjusts** while it runs, from QEMU's own progress samples: after the first pass
   it knows the real link bandwidth and dirty rate, predicts whether pre-copy
   converges within the time bound (a geometric series: each round resends what the
   previous one let the guest dirty) and, if not, switches to post-copy — or, without
   post-copy, tightens auto-converge's throttle. A pre-copy that stops shrinking is
   switched too.

Every choice is a ``Decision`` with the figures behind it; the server writes them into
the operation's steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MIB = 1024 * 1024
#: QEMU's defaults, for the "qemu-default" baseline.
QEMU_DEFAULT_MAX_BANDWIDTH = 128 * MIB
QEMU_DEFAULT_DOWNTIME_MS = 300
#: "Unlimited" for max-bandwidth (QEMU needs a number; 0 would stall pre-copy).
UNLIMITED_BPS = 64 * 1024 * MIB
#: Links at least this fast use multifd: one stream is CPU-bound near 1.2 Gbit/s.
MULTIFD_MIN_BPS = 125_000_000
#: Share of the downtime objective given to QEMU's RAM estimate; the rest covers device
#: state and the switchover itself, which QEMU's estimate leaves out.
DOWNTIME_SHARE = 0.4
#: Pre-copy is predicted to converge only when the link outruns dirtying by this factor.
CONVERGENCE_MARGIN = 0.8
#: Rounds without a shrinking remainder before pre-copy counts as stalled.
STALL_ROUNDS = 3
#: Before a post-copy switch the stream is slowed for a moment so that the link's
#: queues (socket buffers, router queues) empty: the switchover's messages then do not
#: wait behind seconds of bulk pages, which would all count as downtime.
DRAIN_BYTES = 2 * MIB
DRAIN_RATE_BPS = 1 * MIB
DRAIN_MIN_S, DRAIN_MAX_S = 0.05, 0.5


@dataclass(frozen=True)
class Objective:
    downtime_ms: float = 50.0
    time_bound_s: float | None = None
    """None: twice the time the link needs to send the RAM once."""
    allow_postcopy: bool = True
    """Post-copy finishes any migration fast, but while it runs the VM lives on both
    hosts: losing either (or the link) loses the VM."""
    allow_autoconverge: bool = True
    link_bandwidth_bps: float | None = None
    """The link's rate in bytes/s when known (a WAN); None: measure it."""
    multifd_channels: int = 2


@dataclass(frozen=True)
class Decision:
    at_s: float
    choice: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """What to set on both sides before the stream opens."""

    capabilities: dict[str, bool]
    parameters: dict[str, Any]
    decisions: tuple[Decision, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "capabilities": dict(self.capabilities),
            "parameters": dict(self.parameters),
            "decisions": [d.__dict__ for d in self.decisions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            capabilities=dict(data.get("capabilities") or {}),
            parameters=dict(data.get("parameters") or {}),
            decisions=tuple(Decision(**d) for d in data.get("decisions") or []),
        )


@dataclass(frozen=True)
class Sample:
    """One ``query-migrate`` reading on the source."""

    elapsed_s: float
    status: str
    transferred: int = 0
    remaining: int = 0
    total: int = 0
    dirty_rate_bps: float = 0.0
    """Bytes/s, known after the first dirty sync (``dirty-pages-rate`` × page size)."""
    bandwidth_bps: float = 0.0
    """Bytes/s QEMU measured on the stream (``mbps``)."""
    dirty_sync_count: int = 0
    expected_downtime_ms: float = 0.0
    throttle_pct: int = 0

    @classmethod
    def from_query_migrate(cls, elapsed_s: float, raw: dict[str, Any]) -> Sample:
        ram = raw.get("ram") or {}
        page = int(ram.get("page-size") or 4096)
        return cls(
            elapsed_s=elapsed_s,
            status=str(raw.get("status", "")),
            transferred=int(ram.get("transferred") or 0),
            remaining=int(ram.get("remaining") or 0),
            total=int(ram.get("total") or 0),
            dirty_rate_bps=float(ram.get("dirty-pages-rate") or 0) * page,
            bandwidth_bps=float(ram.get("mbps") or 0.0) * 1e6 / 8,
            dirty_sync_count=int(ram.get("dirty-sync-count") or 0),
            expected_downtime_ms=float(raw.get("expected-downtime") or 0),
            throttle_pct=int(raw.get("cpu-throttle-percentage") or 0),
        )


@dataclass(frozen=True)
class Action:
    """Something to do on the source now."""

    kind: str
    """``set-parameters`` or ``start-postcopy``."""
    arguments: dict[str, Any]
    decision: Decision


@dataclass(frozen=True)
class Prediction:
    converges: bool
    rounds: int
    seconds: float


def predict_precopy(
    remaining_bytes: float, dirty_rate_bps: float, bandwidth_bps: float, downtime_s: float
) -> Prediction:
    """Whether pre-copy gets ``remaining_bytes`` down to what fits in ``downtime_s``.

    Each round sends what is left at link speed while the guest dirties memory at its
    rate, so the remainder shrinks by ``dirty/bandwidth`` per round: ``r_n = r_0·q^n``.
    Converged when ``r_n ≤ bandwidth × downtime``; time is ``Σ r_i / bandwidth``.
    """
    if bandwidth_bps <= 0:
        return Prediction(False, 0, math.inf)
    target = bandwidth_bps * downtime_s
    if remaining_bytes <= target:
        return Prediction(True, 0, 0.0)
    ratio = dirty_rate_bps / bandwidth_bps
    if ratio >= CONVERGENCE_MARGIN:
        return Prediction(False, 0, math.inf)
    if ratio <= 0:
        return Prediction(True, 1, remaining_bytes / bandwidth_bps)
    rounds = math.ceil(math.log(target / remaining_bytes) / math.log(ratio))
    sent = remaining_bytes * (1 - ratio**rounds) / (1 - ratio)
    return Prediction(True, rounds, sent / bandwidth_bps)


def time_bound_s(objective: Objective, ram_bytes: int, bandwidth_bps: float) -> float:
    """The objective's bound, or twice the time to send the RAM once (≥ 10 s)."""
    if objective.time_bound_s is not None:
        return objective.time_bound_s
    if bandwidth_bps <= 0:
        return math.inf
    return max(10.0, 2 * ram_bytes / bandwidth_bps)


def qemu_default_plan() -> Plan:
    """QEMU's own defaults, set explicitly (the benchmark's baseline)."""
    return Plan(
        capabilities={},
        parameters={
            "max-bandwidth": QEMU_DEFAULT_MAX_BANDWIDTH,
            "downtime-limit": QEMU_DEFAULT_DOWNTIME_MS,
        },
        decisions=(Decision(0.0, "qemu defaults", "baseline: plain pre-copy as QEMU ships it"),),
    )


def plan_migration(objective: Objective, ram_bytes: int, dirty_rate_bps: float | None) -> Plan:
    """Capabilities and parameters for both sides, decided before the stream opens."""
    decisions: list[Decision] = []
    caps: dict[str, bool] = {}
    link = objective.link_bandwidth_bps
    cap = int(link) if link else UNLIMITED_BPS
    limit_ms = max(1, int(objective.downtime_ms * DOWNTIME_SHARE))
    params: dict[str, Any] = {
        "max-bandwidth": cap,
        "max-postcopy-bandwidth": cap if link else 0,
        "downtime-limit": limit_ms,
    }
    decisions.append(
        Decision(
            0.0,
            f"downtime-limit {limit_ms} ms",
            f"{DOWNTIME_SHARE:.0%} of the {objective.downtime_ms:g} ms objective; the rest "
            "covers device state and the switchover",
        )
    )
    decisions.append(
        Decision(
            0.0,
            f"max-bandwidth {_rate(cap)}",
            f"the link's rate ({_rate(link)}), for pre-copy and post-copy alike"
            if link
            else "no known link limit: do not cap (QEMU's default caps at 128 MiB/s)",
        )
    )
    fast = link is None or link >= MULTIFD_MIN_BPS
    if objective.allow_postcopy:
        caps["postcopy-ram"] = True
        decisions.append(
            Decision(
                0.0,
                "post-copy armed",
                "switch after the first pass if pre-copy is predicted not to converge "
                "within the time bound",
            )
        )
    elif fast and objective.multifd_channels > 1:
        # QEMU 10 refuses multifd together with post-copy; post-copy is the safety net.
        caps["multifd"] = True
        params["multifd-channels"] = objective.multifd_channels
        decisions.append(
            Decision(
                0.0,
                f"multifd, {objective.multifd_channels} channels",
                "a fast link: one stream is CPU-bound near 1.2 Gbit/s",
            )
        )
    if not objective.allow_postcopy:
        if objective.allow_autoconverge:
            caps["auto-converge"] = True
            params["cpu-throttle-initial"] = 30
            params["cpu-throttle-increment"] = 20
            decisions.append(
                Decision(
                    0.0,
                    "auto-converge",
                    "post-copy not allowed: throttle the guest's vCPUs if dirtying outruns "
                    "the link",
                )
            )
        if not fast:
            caps["xbzrle"] = True
            params["xbzrle-cache-size"] = _pow2_floor(max(64 * MIB, ram_bytes // 4))
            decisions.append(
                Decision(
                    0.0,
                    "xbzrle",
                    "slow link without post-copy: resend only the changed bytes of "
                    "re-dirtied pages (helps when guests rewrite pages partially)",
                )
            )
    if link and dirty_rate_bps is not None:
        seen = predict_precopy(ram_bytes, dirty_rate_bps, link, limit_ms / 1000)
        decisions.append(
            Decision(
                0.0,
                "forecast",
                f"dirty {_rate(dirty_rate_bps)} vs link {_rate(link)}: pre-copy "
                + (
                    f"converges in ~{seen.rounds} rounds"
                    if seen.converges
                    else "will not converge on its own"
                ),
            )
        )
    return Plan(capabilities=caps, parameters=params, decisions=tuple(decisions))


@dataclass
class Controller:
    """Watches progress samples on the source and says what to change."""

    objective: Objective
    plan: Plan
    ram_bytes: int
    postcopy_started: bool = False
    decisions: list[Decision] = field(default_factory=list)
    _best_remaining: int | None = None
    _stalled_rounds: int = 0
    _last_sync: int = 0
    _throttle_step: int = 0

    @property
    def postcopy_armed(self) -> bool:
        return bool(self.plan.capabilities.get("postcopy-ram"))

    def observe(self, sample: Sample) -> list[Action]:
        if sample.status != "active" or self.postcopy_started:
            return []
        new_round = sample.dirty_sync_count > self._last_sync
        self._last_sync = max(self._last_sync, sample.dirty_sync_count)
        if sample.dirty_sync_count < 2:
            return self._during_first_pass(sample)
        if not new_round:
            return []
        self._track_stall(sample)
        return self._after_round(sample)

    def _during_first_pass(self, sample: Sample) -> list[Action]:
        """The first pass alone may outlast the bound on a slow link for a big guest."""
        if not self.postcopy_armed or sample.bandwidth_bps <= 0:
            return []
        bound = time_bound_s(self.objective, self.ram_bytes, self._bandwidth(sample))
        left = sample.remaining / sample.bandwidth_bps
        if sample.elapsed_s + left <= bound * 0.5:
            return []
        return [
            self._postcopy(
                sample,
                f"the first pass alone needs {sample.elapsed_s + left:.1f} s, over half the "
                f"{bound:.1f} s bound: move the rest on demand",
            )
        ]

    def _after_round(self, sample: Sample) -> list[Action]:
        bandwidth = self._bandwidth(sample)
        downtime_s = float(self.plan.parameters.get("downtime-limit", 300)) / 1000
        bound = time_bound_s(self.objective, self.ram_bytes, bandwidth)
        seen = predict_precopy(sample.remaining, sample.dirty_rate_bps, bandwidth, downtime_s)
        figures = (
            f"round {sample.dirty_sync_count - 1}: dirty {_rate(sample.dirty_rate_bps)}, "
            f"link {_rate(bandwidth)}, {sample.remaining / MIB:.0f} MiB left"
        )
        in_time = seen.converges and sample.elapsed_s + seen.seconds <= bound
        if in_time and self._stalled_rounds < STALL_ROUNDS:
            return []
        why = (
            f"pre-copy stopped shrinking for {self._stalled_rounds} rounds"
            if seen.converges and self._stalled_rounds >= STALL_ROUNDS
            else "pre-copy will not converge"
            if not seen.converges
            else f"pre-copy needs ~{seen.seconds:.1f} s more, past the {bound:.1f} s bound"
        )
        if self.postcopy_armed:
            return [self._postcopy(sample, f"{figures}; {why}")]
        if self.plan.capabilities.get("auto-converge"):
            return self._throttle_harder(sample, f"{figures}; {why}")
        return []

    def _track_stall(self, sample: Sample) -> None:
        if self._best_remaining is None or sample.remaining < self._best_remaining * 0.9:
            self._best_remaining = sample.remaining
            self._stalled_rounds = 0
        else:
            self._stalled_rounds += 1

    def _postcopy(self, sample: Sample, reason: str) -> Action:
        self.postcopy_started = True
        bandwidth = self._bandwidth(sample)
        drain_s = DRAIN_MAX_S if bandwidth <= 0 else DRAIN_BYTES / bandwidth
        drain_s = round(min(DRAIN_MAX_S, max(DRAIN_MIN_S, drain_s)), 3)
        decision = Decision(
            round(sample.elapsed_s, 2),
            "switch to post-copy",
            f"{reason}; the link's queues drain for {drain_s * 1000:.0f} ms first",
        )
        self.decisions.append(decision)
        return Action(
            "start-postcopy", {"drain_s": drain_s, "drain_rate_bps": DRAIN_RATE_BPS}, decision
        )

    def _throttle_harder(self, sample: Sample, reason: str) -> list[Action]:
        increment = int(self.plan.parameters.get("cpu-throttle-increment", 10))
        new = min(50, increment + 10 * (self._throttle_step + 1))
        if new == increment + 10 * self._throttle_step and self._throttle_step:
            return []
        self._throttle_step += 1
        decision = Decision(
            round(sample.elapsed_s, 2),
            f"cpu-throttle-increment {new}%",
            f"{reason}; throttle now {sample.throttle_pct}%",
        )
        self.decisions.append(decision)
        return [Action("set-parameters", {"cpu-throttle-increment": new}, decision)]

    def _bandwidth(self, sample: Sample) -> float:
        link = self.objective.link_bandwidth_bps
        measured = sample.bandwidth_bps
        if measured > 0 and link:
            return min(measured, link)
        return measured or (link or 0.0)


def _pow2_floor(value: int) -> int:
    return 1 << (value.bit_length() - 1)


def _rate(bps: float | None) -> str:
    if not bps:
        return "unknown"
    if bps >= UNLIMITED_BPS:
        return "unlimited"
    return f"{bps / MIB:.1f} MiB/s"
