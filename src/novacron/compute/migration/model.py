"""A model of QEMU live-migration physics: pure code, no I/O.

``simulate(params)`` plays a migration round by round and returns its timeline and
outcome; ``predict_precopy(params)`` answers the pre-copy question in closed form.
The sim driver plays the timeline in (scaled) real time; the migration policy can
use either to choose options before it starts a real migration.

The model, in QEMU's terms (bytes and seconds throughout; ``B`` is the effective
bandwidth ``min(bandwidth_bps, max_bandwidth_bps)``):

- **Storage** (optional): ``disk_bytes`` are mirrored first, at ``B``. The guest's disk
  writes during the mirror are not modelled.
- **Pre-copy**: before every round, if the dirty bytes left send within the downtime
  limit (``remaining / B <= downtime_limit_ms``, QEMU's ``threshold_size`` test) the
  source stops the guest and switches over. Otherwise a round runs: a fixed
  ``round_overhead_s`` (dirty-bitmap sync), then the remaining bytes at ``B``. Round 1
  sends every non-zero page; zero pages cost nothing. While a round takes ``t``
  seconds the guest dirties ``min(working_set, D * t)`` bytes (``D`` the dirty rate,
  scaled by ``1 - throttle``): that is what round ``k + 1`` sends.
- **Switchover** (pre-copy): downtime = ``(remaining + device_state_bytes) / B +
  switchover_ms``; then the migration has completed.
- **Auto-converge** (QEMU's ``auto-converge`` capability): after each round, if the
  guest dirtied more than ``trigger_ratio`` of the bytes the round sent, a counter
  goes up; at ``trigger_count`` it resets and the vCPU throttle steps up (20 %, then
  +10 % each time, at most 99 %). QEMU does this once per second of bitmap syncs; the
  model does it once per round.
- **Post-copy** (when allowed): after ``postcopy_after_rounds`` rounds, the model
  switches if pre-copy — at the current throttle, without further throttling — is
  predicted not to reach the downtime limit within what is left of ``max_time_s``;
  it also switches instead of giving up when the next round would pass
  ``max_time_s`` or ``max_rounds``. At the switch the guest stops for
  ``device_state_bytes / B + switchover_ms`` and runs on the destination, which
  then pulls the remaining dirty bytes at ``B`` (no new dirtying on the source).
- **Giving up**: without post-copy, a migration whose next round would end after
  ``max_time_s`` is aborted at ``max_time_s`` ("did not converge within max time");
  ``max_rounds`` bounds the work of the simulation itself.

Not modelled: compression, multifd, XBZRLE, the bandwidth shared by concurrent
migrations, page-fault latency during post-copy (it slows the guest, not the copy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from novacron.compute.migration.policy import Decision

MiB = 1 << 20
GiB = 1 << 30

PRECOPY, POSTCOPY = "precopy", "postcopy"
# Phases of timeline entries.
STORAGE, SWITCHOVER, ABORTED = "storage", "switchover", "aborted"


@dataclass(frozen=True)
class AutoConverge:
    """QEMU's CPU throttling: ``cpu-throttle-initial``/``-increment``/``max-cpu-throttle``
    and ``throttle-trigger-threshold`` (as a ratio); a throttle ``x`` scales the guest's
    dirty rate by ``1 - x``."""

    initial: float = 0.20
    increment: float = 0.10
    maximum: float = 0.99
    trigger_ratio: float = 0.5
    """Throttle when a round dirtied more than this fraction of what it sent …"""
    trigger_count: int = 2
    """… this many times (counted since the last step)."""

    def __post_init__(self) -> None:
        _require(0 < self.initial <= self.maximum < 1, "throttle: need 0 < initial <= max < 1")
        _require(self.increment > 0, "throttle increment must be > 0")
        _require(self.trigger_ratio >= 0 and self.trigger_count >= 1, "bad throttle trigger")

    def step(self, throttle: float) -> float:
        """The throttle after one more step from ``throttle`` (0 = not throttled yet)."""
        nxt = self.initial if throttle == 0 else throttle + self.increment
        return min(self.maximum, nxt)


@dataclass(frozen=True)
class MigrationParams:
    """One migration: the guest, the link and the objective."""

    ram_bytes: int
    bandwidth_bps: float
    """Link bandwidth, bytes per second."""
    dirty_rate_bps: float = 0.0
    """Bytes per second the guest dirties (unthrottled)."""
    zero_fraction: float = 0.0
    """Fraction of RAM that is zero pages: round 1 skips them."""
    working_set_bytes: int | None = None
    """Writable working set: a round never finds more dirty bytes than this (None: all RAM)."""
    max_bandwidth_bps: float | None = None
    """QEMU's ``max-bandwidth`` cap, if any."""
    downtime_limit_ms: float = 300.0
    """QEMU's ``downtime-limit`` (its default is 300 ms)."""
    switchover_ms: float = 5.0
    """Fixed cost of stopping the source and starting the destination."""
    device_state_bytes: int = 0
    """Device state sent while the guest is stopped (0: folded into ``switchover_ms``)."""
    round_overhead_s: float = 0.0
    """Fixed time per round (dirty-bitmap sync); the guest keeps dirtying during it."""
    max_time_s: float = 3600.0
    max_rounds: int = 10_000
    allow_postcopy: bool = False
    postcopy_after_rounds: int = 1
    auto_converge: AutoConverge | None = None
    disk_bytes: int = 0
    """Copied before memory (block mirror); 0 for shared storage."""

    def __post_init__(self) -> None:
        _require(self.ram_bytes > 0, "ram_bytes must be > 0")
        _require(_positive(self.bandwidth_bps), "bandwidth_bps must be a finite number > 0")
        cap = self.max_bandwidth_bps
        _require(cap is None or _positive(cap), "max_bandwidth_bps must be > 0")
        _require(_nonneg(self.dirty_rate_bps), "dirty_rate_bps must be >= 0")
        _require(0 <= self.zero_fraction <= 1, "zero_fraction must be in [0, 1]")
        ws = self.working_set_bytes
        _require(ws is None or ws >= 0, "working_set_bytes must be >= 0")
        _require(_positive(self.downtime_limit_ms), "downtime_limit_ms must be > 0")
        _require(_nonneg(self.switchover_ms), "switchover_ms must be >= 0")
        _require(self.device_state_bytes >= 0, "device_state_bytes must be >= 0")
        _require(_nonneg(self.round_overhead_s), "round_overhead_s must be >= 0")
        _require(_positive(self.max_time_s), "max_time_s must be > 0")
        _require(self.max_rounds >= 1, "max_rounds must be >= 1")
        _require(self.postcopy_after_rounds >= 0, "postcopy_after_rounds must be >= 0")
        _require(self.disk_bytes >= 0, "disk_bytes must be >= 0")

    @property
    def bandwidth(self) -> float:
        """Effective bandwidth: the link, capped by ``max_bandwidth_bps``."""
        cap = self.max_bandwidth_bps
        return self.bandwidth_bps if cap is None else min(self.bandwidth_bps, cap)

    @property
    def nonzero_bytes(self) -> float:
        return self.ram_bytes * (1.0 - self.zero_fraction)

    @property
    def working_set(self) -> float:
        ws = self.working_set_bytes
        return float(self.ram_bytes if ws is None else min(ws, self.ram_bytes))

    @property
    def threshold_bytes(self) -> float:
        """Dirty bytes that send within the downtime limit."""
        return self.bandwidth * self.downtime_limit_ms / 1000.0

    def downtime_ms(self, remaining: float) -> float:
        """Downtime of a switchover with ``remaining`` dirty bytes still on the source."""
        return (remaining + self.device_state_bytes) / self.bandwidth * 1000 + self.switchover_ms


@dataclass(frozen=True)
class Round:
    """One entry of the timeline: a pre-copy round, or the storage, switchover,
    post-copy or aborted phase."""

    iteration: int
    """Pre-copy round number (1-based); 0 for storage; the last round's for the others."""
    phase: str
    """``storage``, ``precopy``, ``switchover``, ``postcopy`` or ``aborted``."""
    start_s: float
    elapsed_s: float
    """Time since the migration started, at the end of this entry."""
    sent_bytes: int
    remaining_bytes: int
    """Dirty memory still to send after this entry."""
    dirty_rate_bps: float = 0.0
    """The guest's effective (throttled) dirty rate during this entry."""
    throttle: float = 0.0


@dataclass(frozen=True)
class MigrationResult:
    completed: bool
    reason: str
    """How it completed, or why it did not."""
    mode: str
    """``precopy``, or ``postcopy`` once it switched."""
    rounds: int
    """Pre-copy rounds run in full."""
    total_time_s: float
    downtime_ms: float | None
    """None when it did not complete."""
    bytes_sent: int
    """Everything: disk, memory and device state."""
    ram_bytes_sent: int
    switchover_at_s: float | None
    throttle: float
    """The vCPU throttle at the end."""
    timeline: tuple[Round, ...] = ()
    decisions: tuple[Decision, ...] = ()


@dataclass(frozen=True)
class PrecopyPrediction:
    """Closed-form pre-copy outcome (ignores auto-converge and post-copy)."""

    converges: bool
    """The dirty bytes eventually fit the downtime limit (given unlimited time)."""
    completes: bool
    """… within ``max_time_s`` and ``max_rounds``."""
    rounds: int | None
    switchover_at_s: float | None
    total_time_s: float | None
    downtime_ms: float | None
    bytes_sent: int | None
    limit_bytes: float | None
    """Where the dirty bytes per round settle (``D·o / (1 - D/B)``) when ``D < B``."""
    reason: str


# -- closed form ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    rounds: int | None
    """Rounds before the remaining bytes fit the limit; None: never."""
    sent: float = 0.0
    time_s: float = 0.0
    final: float = 0.0
    """Remaining bytes at the switchover."""


def _plan(x0: float, b: float, d: float, o: float, w: float, t: float) -> _Plan:
    """Pre-copy from ``x0`` dirty bytes: ``x' = min(w, r·x + c)`` with ``r = d/b``,
    ``c = d·o``, until ``x <= t``.

    After one round ``x1 <= w``. If ``r >= 1`` the sequence never shrinks again; if
    ``r < 1`` it tends to the fixed point ``p = c / (1 - r)`` as ``p + rʲ(x1 - p)`` —
    uncapped, since ``x1 > t > p`` means ``w > p`` — so it reaches ``t`` iff ``p < t``.
    """
    if x0 <= t:
        return _Plan(0, final=x0)
    r, c = d / b, d * o
    x1 = min(w, r * x0 + c)
    if x1 <= t:
        return _Plan(1, x0, x0 / b + o, x1)
    if r >= 1 or c / (1 - r) >= t:
        return _Plan(None)
    p = c / (1 - r)
    j = _first_below(p, x1, r, t)
    sent = x0 + j * p + (x1 - p) * (1 - r**j) / (1 - r)
    return _Plan(1 + j, sent, sent / b + (1 + j) * o, p + r**j * (x1 - p))


def _first_below(p: float, x1: float, r: float, t: float) -> int:
    """Smallest ``j >= 1`` with ``p + rʲ(x1 - p) <= t`` (given ``p < t < x1``, ``0 < r < 1``)."""

    def above(j: int) -> bool:
        return p + r**j * (x1 - p) > t

    j = max(1, math.ceil(math.log((t - p) / (x1 - p)) / math.log(r)))
    while j > 1 and not above(j - 1):
        j -= 1
    while above(j):
        j += 1
    return j


def predict_precopy(params: MigrationParams) -> PrecopyPrediction:
    """Whether pure pre-copy (no auto-converge, no post-copy) converges, in how many
    rounds and seconds — the geometric series that ``simulate`` plays step by step."""
    p, b = params, params.bandwidth
    d, o, t = p.dirty_rate_bps, p.round_overhead_s, p.threshold_bytes
    start = p.disk_bytes / b
    plan = _plan(p.nonzero_bytes, b, d, o, p.working_set, t)
    limit = d * o / (1 - d / b) if d < b else None
    if plan.rounds is None:
        why = _never_reason(d, b, limit, t)
        return PrecopyPrediction(False, False, None, None, None, None, None, limit, why)
    switch_at = start + plan.time_s
    downtime = p.downtime_ms(plan.final)
    completes = switch_at <= p.max_time_s and plan.rounds <= p.max_rounds
    total_bytes = p.disk_bytes + plan.sent + plan.final + p.device_state_bytes
    reason = f"converges in {plan.rounds} rounds, switchover at {switch_at:.3f} s"
    if not completes:
        reason += f" (beyond max time {_fmt_s(p.max_time_s)} or {p.max_rounds} rounds)"
    return PrecopyPrediction(
        True,
        completes,
        plan.rounds,
        switch_at,
        switch_at + downtime / 1000,
        downtime,
        round(total_bytes),
        limit,
        reason,
    )


def _never_reason(d: float, b: float, limit: float | None, t: float) -> str:
    if limit is None:
        return f"dirty rate {_fmt_rate(d)} >= bandwidth {_fmt_rate(b)}"
    return (
        f"dirty bytes settle at {_fmt_bytes(limit)} per round, above the "
        f"{_fmt_bytes(t)} that fit the downtime limit"
    )


# -- simulation -----------------------------------------------------------------------


@dataclass
class _Run:
    p: MigrationParams
    elapsed: float = 0.0
    remaining: float = 0.0
    disk_sent: float = 0.0
    ram_sent: float = 0.0
    rounds: int = 0
    throttle: float = 0.0
    high_count: int = 0
    timeline: list[Round] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def dirty_rate(self) -> float:
        return self.p.dirty_rate_bps * (1.0 - self.throttle)

    def decide(self, choice: str, reason: str) -> None:
        self.decisions.append(Decision(self.elapsed, choice, reason))

    def add(self, phase: str, start: float, sent: float, iteration: int | None = None) -> None:
        self.timeline.append(
            Round(
                iteration=self.rounds if iteration is None else iteration,
                phase=phase,
                start_s=start,
                elapsed_s=self.elapsed,
                sent_bytes=round(sent),
                remaining_bytes=round(self.remaining),
                dirty_rate_bps=self.dirty_rate,
                throttle=self.throttle,
            )
        )

    def result(
        self, completed: bool, reason: str, mode: str = PRECOPY, **kw: float
    ) -> MigrationResult:
        return MigrationResult(
            completed=completed,
            reason=reason,
            mode=mode,
            rounds=self.rounds,
            total_time_s=self.elapsed,
            downtime_ms=kw.get("downtime_ms"),
            bytes_sent=round(self.disk_sent + self.ram_sent),
            ram_bytes_sent=round(self.ram_sent),
            switchover_at_s=kw.get("switchover_at_s"),
            throttle=self.throttle,
            timeline=tuple(self.timeline),
            decisions=tuple(self.decisions),
        )


def simulate(params: MigrationParams) -> MigrationResult:
    """Play the migration round by round (see the module docstring for the rules)."""
    run = _Run(params, remaining=params.nonzero_bytes)
    if params.disk_bytes and not _copy_disk(run):
        return run.result(False, run.decisions[-1].reason)
    run.decide(PRECOPY, _start_reason(params))
    while True:
        if run.remaining <= params.threshold_bytes:
            return _switchover(run)
        stuck = _cannot_continue(run)
        if params.allow_postcopy and (stuck or _postcopy_due(run)):
            return _postcopy(run, f"pre-copy {stuck}" if stuck else _postcopy_reason(run))
        if stuck:
            run.decide("abort", stuck)
            return _abort(run, stuck)
        _round(run)


def _copy_disk(run: _Run) -> bool:
    p, start = run.p, run.elapsed
    need = p.disk_bytes / p.bandwidth
    run.decide(STORAGE, f"mirror {_fmt_bytes(p.disk_bytes)} of disk at {_fmt_rate(p.bandwidth)}")
    if need > p.max_time_s:
        run.elapsed = p.max_time_s
        run.disk_sent = p.bandwidth * p.max_time_s
        run.add(ABORTED, start, run.disk_sent, 0)
        run.decide("abort", f"disk copy did not finish within max time {_fmt_s(p.max_time_s)}")
        return False
    run.elapsed, run.disk_sent = need, float(p.disk_bytes)
    run.add(STORAGE, start, p.disk_bytes, 0)
    return True


def _round(run: _Run) -> None:
    p, start, sent = run.p, run.elapsed, run.remaining
    duration = sent / p.bandwidth + p.round_overhead_s
    rate = run.dirty_rate
    dirtied = min(p.working_set, rate * duration)
    run.elapsed += duration
    run.ram_sent += sent
    run.rounds += 1
    run.remaining = dirtied
    run.timeline.append(
        Round(
            run.rounds, PRECOPY, start, run.elapsed, round(sent), round(dirtied), rate, run.throttle
        )
    )
    if p.auto_converge is not None:
        _maybe_throttle(run, p.auto_converge, sent, dirtied)


def _maybe_throttle(run: _Run, ac: AutoConverge, sent: float, dirtied: float) -> None:
    if dirtied <= ac.trigger_ratio * sent:
        return
    run.high_count += 1
    if run.high_count < ac.trigger_count or run.throttle >= ac.maximum:
        return
    run.high_count = 0
    run.throttle = ac.step(run.throttle)
    run.decide(
        "throttle",
        f"guest dirtied more than {ac.trigger_ratio:.0%} of what was sent, "
        f"{ac.trigger_count} times: vCPU throttle {run.throttle:.0%}",
    )


def _cannot_continue(run: _Run) -> str:
    """Why no further pre-copy round may run (empty: one may)."""
    p = run.p
    if run.rounds >= p.max_rounds:
        return f"did not converge within {p.max_rounds} rounds"
    if run.elapsed + run.remaining / p.bandwidth + p.round_overhead_s > p.max_time_s:
        return f"did not converge within max time {_fmt_s(p.max_time_s)}"
    return ""


def _postcopy_due(run: _Run) -> bool:
    p = run.p
    if run.rounds < p.postcopy_after_rounds:
        return False
    rate, overhead = run.dirty_rate, p.round_overhead_s
    plan = _plan(run.remaining, p.bandwidth, rate, overhead, p.working_set, p.threshold_bytes)
    if plan.rounds is None:
        return True
    return run.elapsed + plan.time_s > p.max_time_s or run.rounds + plan.rounds > p.max_rounds


def _postcopy_reason(run: _Run) -> str:
    p = run.p
    return (
        f"pre-copy predicted not to converge within max time {_fmt_s(p.max_time_s)} "
        f"(dirty rate {_fmt_rate(run.dirty_rate)}, bandwidth {_fmt_rate(p.bandwidth)}, "
        f"{_fmt_bytes(run.remaining)} dirty after round {run.rounds})"
    )


def _switchover(run: _Run) -> MigrationResult:
    p, start, final = run.p, run.elapsed, run.remaining
    downtime = p.downtime_ms(final)
    run.decide(
        SWITCHOVER,
        f"{_fmt_bytes(final)} left sends in {final / p.bandwidth * 1000:.1f} ms "
        f"<= downtime limit {p.downtime_limit_ms:g} ms",
    )
    run.ram_sent += final + p.device_state_bytes
    run.elapsed += downtime / 1000
    run.remaining = 0.0
    run.add(SWITCHOVER, start, final + p.device_state_bytes)
    reason = f"completed by pre-copy after {run.rounds} rounds, downtime {downtime:.1f} ms"
    return run.result(True, reason, downtime_ms=downtime, switchover_at_s=start)


def _postcopy(run: _Run, why: str) -> MigrationResult:
    p, start, pending = run.p, run.elapsed, run.remaining
    downtime = p.downtime_ms(0.0)
    run.decide(POSTCOPY, f"switch to post-copy: {why}")
    run.ram_sent += p.device_state_bytes
    run.elapsed += downtime / 1000
    run.add(SWITCHOVER, start, p.device_state_bytes)
    pulled_from = run.elapsed
    run.ram_sent += pending
    run.elapsed += pending / p.bandwidth
    run.remaining = 0.0
    run.add(POSTCOPY, pulled_from, pending)
    reason = (
        f"completed by post-copy after {run.rounds} pre-copy rounds: "
        f"{_fmt_bytes(pending)} pulled by the destination, downtime {downtime:.1f} ms"
    )
    return run.result(True, reason, POSTCOPY, downtime_ms=downtime, switchover_at_s=start)


def _abort(run: _Run, why: str) -> MigrationResult:
    """Give up. Out of time: the last round runs until the deadline and is cut there."""
    p, start = run.p, run.elapsed
    if run.rounds < p.max_rounds:  # out of time, not out of rounds
        sent = min(run.remaining, p.bandwidth * max(0.0, p.max_time_s - start - p.round_overhead_s))
        run.elapsed = p.max_time_s
        run.ram_sent += sent
        run.remaining -= sent
        run.add(ABORTED, start, sent, run.rounds + 1)
    return run.result(False, why)


def _start_reason(p: MigrationParams) -> str:
    pred = predict_precopy(p)
    outlook = pred.reason if pred.converges else f"predicted not to converge: {pred.reason}"
    return (
        f"pre-copy {_fmt_bytes(p.nonzero_bytes)} of non-zero RAM "
        f"({p.zero_fraction:.0%} zero pages skipped) at {_fmt_rate(p.bandwidth)}; guest dirties "
        f"{_fmt_rate(p.dirty_rate_bps)} over a {_fmt_bytes(p.working_set)} working set; {outlook}"
    )


# -- helpers --------------------------------------------------------------------------


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


def _nonneg(x: float) -> bool:
    return math.isfinite(x) and x >= 0


def _fmt_bytes(n: float) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _fmt_rate(bps: float) -> str:
    return f"{bps / 1e6:.1f} MB/s"


def _fmt_s(s: float) -> str:
    return f"{s:g} s"
