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
#: A guest dirtying at most this much is "quiet": pre-copy converges on any link we
#: plan for, so post-copy is not armed (its return path costs switchover round trips).
QUIET_DIRTY_BPS = 4 * MIB
#: Rounds without a shrinking remainder before pre-copy counts as stalled.
STALL_ROUNDS = 3
#: Before a post-copy switch the stream is slowed for a moment so that the link's
#: queues (socket buffers, router queues) empty: the switchover's messages then do not
#: wait behind seconds of bulk pages, which would all count as downtime.
DRAIN_BYTES = 2 * MIB
DRAIN_RATE_BPS = 1 * MIB
DRAIN_MIN_S, DRAIN_MAX_S = 0.05, 0.5
#: Without a known link rate, the stream is capped a little below the rate measured
#: once the socket buffers have filled (QEMU's first readings count the buffers): a
#: stream faster than the link builds a queue that every switchover must wait for.
PACING_AFTER_S = 0.8
PACING_SAMPLES = 5
PACING_SHARE = 0.85


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
        "avail-switchover-bandwidth": cap if link else 0,
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
    quiet = dirty_rate_bps is not None and dirty_rate_bps <= QUIET_DIRTY_BPS
    postcopy = objective.allow_postcopy and not quiet
    if postcopy:
        caps["postcopy-ram"] = True
        decisions.append(
            Decision(
                0.0,
                "post-copy armed",
                f"the guest dirties {_rate(dirty_rate_bps)}: switch to post-copy as soon as "
                "pre-copy is predicted not to converge within the time bound",
            )
        )
    elif quiet and objective.allow_postcopy:
        decisions.append(
            Decision(
                0.0,
                "post-copy not armed",
                f"a quiet guest ({_rate(dirty_rate_bps)} dirtied): pre-copy converges, and "
                "an armed post-copy opens a return path that adds round trips to the "
                "switchover",
            )
        )
    if not postcopy and not quiet and objective.multifd_channels > 1:
        # QEMU 10 refuses multifd with post-copy (the better net) and with xbzrle.
        caps["multifd"] = True
        params["multifd-channels"] = objective.multifd_channels
        if fast:
            decisions.append(
                Decision(
                    0.0,
                    f"multifd, {objective.multifd_channels} channels",
                    "a fast link: one stream is CPU-bound near 1.2 Gbit/s",
                )
            )
        else:
            params["multifd-compression"] = "zstd"
            params["multifd-zstd-level"] = 1
            decisions.append(
                Decision(
                    0.0,
                    f"multifd with zstd, {objective.multifd_channels} channels",
                    "a slow link without post-copy: compressing pages costs CPU the link "
                    "would otherwise waste (most guest memory compresses; random data "
                    "does not, and then only the CPU is lost)",
                )
            )
    if not postcopy and objective.allow_autoconverge:
        caps["auto-converge"] = True
        params["cpu-throttle-initial"] = 30
        params["cpu-throttle-increment"] = 20
        decisions.append(
            Decision(
                0.0,
                "auto-converge",
                "the fallback without post-copy: throttle the guest's vCPUs only if "
                "dirtying outruns the link",
            )
        )
    if not postcopy and not fast and not quiet and "multifd" not in caps:
        caps["xbzrle"] = True
        params["xbzrle-cache-size"] = _pow2_floor(max(64 * MIB, ram_bytes // 4))
        decisions.append(
            Decision(
                0.0,
                "xbzrle",
                "slow link, one channel: resend only the changed bytes of re-dirtied "
                "pages (helps when guests rewrite pages partially)",
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
    """Watches progress samples on the source and says what to change.

    It judges only with a trustworthy link rate: the operator's, or one measured after
    the socket buffers filled (QEMU's first readings count bytes parked in buffers, not
    bytes across the link). It judges at each dirty sync, and once when the rate
    becomes known; until QEMU has measured the dirty rate itself, it uses the one
    measured before the migration.
    """

    objective: Objective
    plan: Plan
    ram_bytes: int
    initial_dirty_rate_bps: float = 0.0
    postcopy_started: bool = False
    decisions: list[Decision] = field(default_factory=list)
    link_rate_bps: float | None = None
    _rates: list[float] = field(default_factory=list)
    _best_remaining: int | None = None
    _stalled_rounds: int = 0
    _last_sync: int = 0
    _judged_once: bool = False
    _throttle_step: int = 0

    def __post_init__(self) -> None:
        if self.objective.link_bandwidth_bps:
            self.link_rate_bps = self.objective.link_bandwidth_bps

    @property
    def postcopy_armed(self) -> bool:
        return bool(self.plan.capabilities.get("postcopy-ram"))

    def observe(self, sample: Sample) -> list[Action]:
        if sample.status != "active" or self.postcopy_started:
            return []
        actions = self._measure_link(sample)
        new_round = sample.dirty_sync_count > self._last_sync
        self._last_sync = max(self._last_sync, sample.dirty_sync_count)
        if self.link_rate_bps is None:
            return actions
        if new_round:
            self._track_stall(sample)
        elif self._judged_once:
            return actions
        self._judged_once = True
        return actions + self._judge(sample)

    def _measure_link(self, sample: Sample) -> list[Action]:
        """Once, for an unknown link: its rate, and a stream paced a little below it so
        no queue builds in front of the switchover."""
        if self.link_rate_bps is not None or sample.bandwidth_bps <= 0:
            return []
        if sample.elapsed_s >= PACING_AFTER_S / 2:
            self._rates.append(sample.bandwidth_bps)
        if sample.elapsed_s < PACING_AFTER_S or len(self._rates) < PACING_SAMPLES:
            return []
        measured = sorted(self._rates[-PACING_SAMPLES:])[PACING_SAMPLES // 2]
        cap = int(measured * PACING_SHARE)
        self.link_rate_bps = float(cap)
        decision = Decision(
            round(sample.elapsed_s, 2),
            f"max-bandwidth {_rate(cap)}",
            f"the link carries {_rate(measured)}: send {PACING_SHARE:.0%} of it so no queue "
            "builds up in front of the switchover, and plan the switchover on that rate",
        )
        self.decisions.append(decision)
        params = {"max-bandwidth": cap, "avail-switchover-bandwidth": cap}
        return [Action("set-parameters", params, decision)]

    def _judge(self, sample: Sample) -> list[Action]:
        bandwidth = float(self.link_rate_bps or 0.0)
        dirty = sample.dirty_rate_bps or self.initial_dirty_rate_bps
        downtime_s = float(self.plan.parameters.get("downtime-limit", 300)) / 1000
        bound = time_bound_s(self.objective, self.ram_bytes, bandwidth)
        seen = predict_precopy(sample.remaining, dirty, bandwidth, downtime_s)
        figures = (
            f"after {sample.elapsed_s:.1f} s: dirty {_rate(dirty)}, link {_rate(bandwidth)}, "
            f"{sample.remaining / MIB:.0f} MiB left"
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
        if sample.dirty_sync_count < 3:  # the first pass is not a round to compare
            return
        if self._best_remaining is None or sample.remaining < self._best_remaining * 0.9:
            self._best_remaining = sample.remaining
            self._stalled_rounds = 0
        else:
            self._stalled_rounds += 1

    def _postcopy(self, sample: Sample, reason: str) -> Action:
        self.postcopy_started = True
        bandwidth = float(self.link_rate_bps or 0.0)
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
        """Auto-converge steps up by itself; a stalled or hopeless pre-copy gets a
        steeper step (at most one change per round, capped at 50 %)."""
        base = int(self.plan.parameters.get("cpu-throttle-increment", 10))
        new = min(50, base + 10 * (self._throttle_step + 1))
        if new <= base + 10 * self._throttle_step:
            return []
        self._throttle_step += 1
        decision = Decision(
            round(sample.elapsed_s, 2),
            f"cpu-throttle-increment {new}%",
            f"{reason}; throttle now {sample.throttle_pct}%",
        )
        self.decisions.append(decision)
        return [Action("set-parameters", {"cpu-throttle-increment": new}, decision)]


def _pow2_floor(value: int) -> int:
    return 1 << (value.bit_length() - 1)


def _rate(bps: float | None) -> str:
    if not bps:
        return "unknown"
    if bps >= UNLIMITED_BPS:
        return "unlimited"
    return f"{bps / MIB:.1f} MiB/s"
