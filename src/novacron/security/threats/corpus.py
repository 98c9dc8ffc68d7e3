"""A seeded, labelled corpus of security-event scenarios for measuring the engine.

Every scenario is two days of one small tenant's traffic — the *background* — starting
on a Monday (day 0, the learning day) and running through Tuesday (day 1), plus either
one attack (label: the attack family) or one benign situation chosen to sit close to a
rule's threshold (label ``"benign"``). Attacks happen on day 1, after the learning
periods, so they are mixed into ordinary traffic rather than replayed alone.

The background: 3–6 people working office hours in sessions (web logins with the odd
typo, CLI/API use through their own token from the office NAT or from home), an admin
doing admin things (granting roles, a few deletions), a CI bot running bursty pipelines
around the clock (more by day), and the hypervisors' ordinary QEMU log lines.

Scenario ``i`` of a kind depends only on ``(seed, kind, i)``, so a larger corpus extends
a smaller one instead of reshuffling it. Backgrounds come from a pool of
:data:`TENANTS` per seed (generating each scenario's two days afresh cost more than
replaying them). The variants are listed in
:data:`ATTACK_VARIANTS` and :data:`BENIGN_VARIANTS`; their generators, with the reasoning
for each, are in ``_attacks.py`` and ``_benign.py``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from novacron.core.errors import Invalid

from .events import SecurityEvent

BASE = datetime(2026, 3, 2, tzinfo=UTC)
"""Day 0 of every scenario: a Monday, 00:00 UTC."""
BASE_TS = BASE.timestamp()
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

ATTACK_VARIANTS: dict[str, tuple[str, ...]] = {
    "brute_force": ("fast", "slow", "distributed", "spray", "spray_slow"),
    "token_misuse": ("stolen_token", "stolen_token_v6", "stolen_token_evening"),
    "privilege_escalation": (
        "self_grant",
        "admin_self_grant",
        "non_admin_grant",
        "denied_then_granted",
    ),
    "mass_deletion": ("burst", "slow", "mixed"),
    "api_volume": ("user_spike", "ci_token_abuse", "just_above_floor"),
    "vm_escape": (
        "assertion",
        "segfault",
        "virtio",
        "memory_corruption",
        "seccomp",
        "vhost",
        "kvm_internal",
    ),
}
FAMILIES = tuple(ATTACK_VARIANTS)
BENIGN_VARIANTS = (
    "quiet_days",
    "typo_logins",
    "forgot_password",
    "stale_script",
    "office_nat",
    "bulk_cleanup",
    "travel_during_learning",
    "dynamic_ip",
    "ci_bursts",
    "busy_user",
    "admin_grants",
    "noisy_qemu",
)
BENIGN = "benign"

_NAMES = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
    "yasmin", "zoe", "quentin", "ursula", "xavier",
)  # fmt: skip
READ_ACTIONS = ("vm.get", "vm.list", "image.list", "metrics.query", "operation.get")
WRITE_ACTIONS = ("vm.create", "vm.start", "vm.stop", "snapshot.create", "vm.update")


@dataclass(frozen=True)
class Scenario:
    id: str
    label: str
    """An attack family from :data:`FAMILIES`, or ``"benign"``."""
    variant: str
    events: tuple[SecurityEvent, ...]
    attack_start: datetime | None
    """Ground truth: time of the first attack event (``None`` for benign scenarios)."""
    description: str = ""


@dataclass
class Person:
    name: str
    token: str
    home_ip: str
    role: str = "member"
    rate: float = 1.0
    """Requests per minute while in a session."""


@dataclass
class World:
    """One tenant's event stream under construction; times are POSIX seconds."""

    rng: random.Random
    people: list[Person] = field(default_factory=list)
    admin: Person | None = None
    ci: Person | None = None
    office_ip: str = ""
    hosts: tuple[str, ...] = ()
    events: list[tuple[float, int, SecurityEvent]] = field(default_factory=list)
    _seq: int = 0

    def emit(
        self, t: float, action: str, actor: str | None, source: str = "audit", **kw: Any
    ) -> None:
        self._seq += 1
        if source == "audit" and "request_id" not in kw:
            kw["request_id"] = f"req-{self._seq:06d}"
        ts = datetime.fromtimestamp(t, UTC)
        self.events.append((t, self._seq, SecurityEvent(ts, source, action, actor, **kw)))

    def log(self, t: float, host: str, message: str) -> None:
        self.emit(t, "qemu.log", None, source="host", host=host, message=message)

    def sorted_events(self) -> tuple[SecurityEvent, ...]:
        return tuple(e for _, _, e in sorted(self.events, key=lambda x: (x[0], x[1])))

    # ------------------------------------------------------------ building blocks

    def login(self, p: Person, t: float, ip: str, typo_p: float = 0.06) -> float:
        """A web sign-in, sometimes after a typo or two; returns when it succeeded."""
        if self.rng.random() < typo_p:
            for _ in range(self.rng.choice((1, 1, 2))):
                self.emit(t, "auth.login", p.name, outcome="failure", source_ip=ip)
                t += self.rng.uniform(4, 20)
        self.emit(t, "auth.login", p.name, source_ip=ip)
        return t

    def requests(
        self,
        p: Person,
        t0: float,
        t1: float,
        ip: str,
        rate: float,
        *,
        token: bool = True,
        writes: float = 0.2,
    ) -> int:
        """A Poisson stream of API requests at ``rate`` per minute in ``[t0, t1)``, with
        the ``token.use`` record the server writes at most once a minute per token. A
        ``writes`` share changes something; 1 in 13 of those is a VM deletion."""
        rng, t, n, last_use = self.rng, t0, 0, -1e18
        while True:
            t += rng.expovariate(rate / MINUTE)
            if t >= t1:
                return n
            if token and t - last_use >= MINUTE:
                self.emit(t, "token.use", p.name, target=p.token, source_ip=ip)
                last_use = t
            r = rng.random()
            if r >= writes:
                action = READ_ACTIONS[int((r - writes) / (1 - writes) * len(READ_ACTIONS))]
            elif r < writes * 0.075:
                action = "vm.delete"
            else:
                action = WRITE_ACTIONS[int(r / writes * len(WRITE_ACTIONS))]
            target = f"vm-{int(rng.random() * 10_000):04d}" if action[:3] == "vm." else None
            # The hot loop of the generator: positional arguments, no emit() kwargs.
            self._seq += 1
            event = SecurityEvent(
                datetime.fromtimestamp(t, UTC),
                "audit",
                action,
                p.name,
                target,
                ip,
                "success",
                "proj-a",
                f"req-{self._seq:06d}",
            )
            self.events.append((t, self._seq, event))
            n += 1

    def session(
        self, p: Person, t0: float, ip: str, minutes: float, *, web: bool | None = None
    ) -> None:
        """Half the sessions are web sign-ins, half CLI/API use through the token."""
        t1 = t0 + minutes * MINUTE
        if web is None:
            web = self.rng.random() < 0.5
        if web:
            t0 = self.login(p, t0, ip)
        self.requests(p, t0, t1, ip, p.rate, token=not web)


def random_ipv4(rng: random.Random, avoid: Sequence[str] = ()) -> str:
    """A unicast address outside every /24 in ``avoid``."""
    blocks = {a.rsplit(".", 1)[0] for a in avoid}
    while True:
        first = rng.choice([n for n in range(11, 224) if n not in (100, 127, 169, 172, 192)])
        addr = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if addr.rsplit(".", 1)[0] not in blocks:
            return addr


def new_world(rng: random.Random) -> World:
    office = random_ipv4(rng)
    names = rng.sample(_NAMES, rng.randint(4, 7))
    people = [
        Person(
            name=n,
            token=f"tok-{n}",
            home_ip=random_ipv4(rng, [office]),
            rate=rng.uniform(0.25, 1.0),
        )
        for n in names[1:]
    ]
    admin = Person(f"ops-{names[0]}", f"tok-ops-{names[0]}", random_ipv4(rng), "admin", 0.8)
    ci = Person("ci-bot", "tok-ci", random_ipv4(rng, [office]), "operator")
    hosts = tuple(f"hv{n:02d}" for n in range(1, rng.randint(2, 4) + 1))
    return World(rng, people, admin, ci, office, hosts)


def background(w: World, *, days: int = 2, ci_scale: float = 1.0) -> None:
    """Office-hours sessions for every person (both addresses seen on day 0), the
    admin's day, CI pipelines and ordinary QEMU logs."""
    rng = w.rng
    assert w.admin is not None and w.ci is not None
    for day in range(days):
        d0 = BASE_TS + day * DAY
        for p in w.people:
            starts = sorted(rng.uniform(8 * HOUR, 18 * HOUR) for _ in range(rng.randint(2, 3)))
            if day == 0:
                starts[0] = rng.uniform(7.5 * HOUR, 9.5 * HOUR)
            for j, s in enumerate(starts):
                # Day 0 uses the token from both usual places first, so they are learned.
                if day == 0 and j < 2:
                    w.session(
                        p, d0 + s, (w.office_ip, p.home_ip)[j], rng.uniform(15, 60), web=False
                    )
                else:
                    ip = w.office_ip if rng.random() < 0.65 else p.home_ip
                    w.session(p, d0 + s, ip, rng.uniform(15, 60))
        admin_day(w, d0)
    ci_pipelines(w, BASE_TS, BASE_TS + days * DAY, scale=ci_scale)
    qemu_background(w, BASE_TS, BASE_TS + days * DAY)


def admin_day(w: World, d0: float) -> None:
    rng, a = w.rng, w.admin
    assert a is not None
    t = d0 + rng.uniform(8 * HOUR, 10 * HOUR)
    t = w.login(a, t, w.office_ip)
    w.requests(a, t, t + rng.uniform(30, 90) * MINUTE, w.office_ip, a.rate, token=False)
    for _ in range(rng.randint(0, 2)):
        p = rng.choice(w.people)
        t += rng.uniform(60, 1800)
        w.emit(
            t,
            "role.grant",
            a.name,
            target=p.name,
            source_ip=w.office_ip,
            detail={"role": rng.choice(("viewer", "operator")), "actor_role": "admin"},
        )
    for _ in range(rng.randint(0, 5)):
        t += rng.uniform(30, 900)
        w.emit(
            t, "vm.delete", a.name, target=f"vm-{rng.randrange(10_000):04d}", source_ip=w.office_ip
        )


def ci_pipelines(w: World, t0: float, t1: float, *, scale: float = 1.0) -> None:
    """Pipelines arrive ~0.7/h by day and ~0.2/h by night; each makes 8–30 requests over
    1–4 minutes (``scale`` multiplies the request count)."""
    rng, ci = w.rng, w.ci
    assert ci is not None
    t = t0
    while True:
        # Thinning: candidates at the day rate, nights keep 2 in 7 of them.
        t += rng.expovariate(0.7 / HOUR)
        if t >= t1:
            return
        hour = ((t - BASE_TS) % DAY) / HOUR
        if not 7 <= hour < 20 and rng.random() >= 0.2 / 0.7:
            continue
        ci_pipeline(w, t, round(rng.randint(8, 30) * scale), rng.uniform(1, 4))


def ci_pipeline(w: World, t: float, n: int, minutes: float) -> None:
    """``n`` requests over ``minutes``; the VMs it deletes are ones it created."""
    ci, rng = w.ci, w.rng
    assert ci is not None
    times = sorted(t + rng.uniform(0, minutes * MINUTE) for _ in range(n))
    last_use = -1e18
    created: list[str] = []
    for x in times:
        if x - last_use >= MINUTE:
            w.emit(x, "token.use", ci.name, target=ci.token, source_ip=ci.home_ip)
            last_use = x
        action = rng.choices(CI_ACTIONS, CI_WEIGHTS)[0]
        if action == "vm.create":
            target = f"vm-ci-{len(w.events):06d}"
            created.append(target)
        elif action == "vm.delete" and created:
            target = created.pop(rng.randrange(len(created)))
        else:
            action = "vm.get" if action == "vm.delete" else action
            target = f"vm-ci-{rng.randrange(999)}"
        w.emit(x, action, ci.name, source_ip=ci.home_ip, target=target)


# A pipeline mostly polls; it creates and deletes its own test VMs.
CI_ACTIONS = ("vm.get", "operation.get", "image.list", "vm.create", "vm.delete")
CI_WEIGHTS = (40, 30, 12, 10, 8)

QEMU_NORMAL = (
    "qemu-system-x86_64: terminating on signal 15 from pid {pid} (/usr/bin/novacron-agent)",
    "qemu-system-x86_64: warning: host doesn't support requested feature: "
    "CPUID.80000001H:ECX.svm [bit 2]",
    "char device redirected to /dev/pts/{n} (label serial0)",
    "qemu-system-x86_64: -accel kvm: warning: Number of hotpluggable cpus requested "
    "({n}) exceeds the recommended cpus supported by KVM (8)",
    "VNC server running on 127.0.0.1:59{n:02d}",
    "qemu-system-x86_64: warning: TCG doesn't support requested feature: CPUID.01H:ECX.vmx [bit 5]",
    "kvm: vcpu{n}, guest rIP: 0xffffffff8106b4c4 disabled perfctr wrmsr: 0xc2 data 0xffff",
    "qemu-system-x86_64: Issue while setting TUNSETSTEERINGEBPF: Invalid argument with fd: "
    "{n}, prog_fd: -1",
)


def qemu_background(w: World, t0: float, t1: float) -> None:
    rng = w.rng
    for host in w.hosts:
        t = t0
        while True:
            t += rng.expovariate(0.5 / HOUR)
            if t >= t1:
                break
            line = rng.choice(QEMU_NORMAL).format(pid=rng.randint(300, 99_999), n=rng.randint(1, 9))
            w.log(t, host, line)


TENANTS = 40
"""Backgrounds per seed: each scenario lays its attack or benign situation over one of
them (chosen by the scenario's own seed), so generating a corpus costs 40 backgrounds
plus the overlays, and a scenario's traffic still differs from most others'."""


def tenant(seed: int, k: int) -> World:
    """Background ``k`` of ``seed``: two days of one tenant's ordinary traffic."""
    w = new_world(random.Random(f"{seed}:tenant:{k}"))
    background(w)
    return w


def fork(base: World, rng: random.Random) -> World:
    """A copy of ``base`` to add one scenario's events to (events are immutable and shared)."""
    return World(
        rng, base.people, base.admin, base.ci, base.office_ip, base.hosts, list(base.events),
        base._seq,
    )  # fmt: skip


def generate_corpus(
    seed: int = 7, scenarios: int = 180, attack_share: float = 0.5
) -> list[Scenario]:
    """``scenarios`` scenarios, ``attack_share`` of them attacks: families in turn, each
    family's variants in turn; benign variants in turn."""
    from ._attacks import build_attack
    from ._benign import build_benign

    if scenarios < 1 or not 0.0 <= attack_share <= 1.0:
        raise Invalid("scenarios must be >= 1 and attack_share within [0, 1]")
    tenants: dict[int, World] = {}

    def world(rng: random.Random) -> World:
        k = rng.randrange(TENANTS)
        if k not in tenants:
            tenants[k] = tenant(seed, k)
        return fork(tenants[k], rng)

    n_attack = round(scenarios * attack_share)
    out: list[Scenario] = []
    for j in range(n_attack):
        family = FAMILIES[j % len(FAMILIES)]
        variants = ATTACK_VARIANTS[family]
        variant = variants[(j // len(FAMILIES)) % len(variants)]
        rng = random.Random(f"{seed}:attack:{j}")
        out.append(build_attack(f"attack-{j:04d}", family, variant, world(rng)))
    for j in range(scenarios - n_attack):
        variant = BENIGN_VARIANTS[j % len(BENIGN_VARIANTS)]
        rng = random.Random(f"{seed}:benign:{j}")
        out.append(build_benign(f"benign-{j:04d}", variant, world(rng)))
    return out
