"""The benign situations of the corpus, one function per variant.

Each is the honest counterpart of an attack: what real tenants do that looks like one to
a naive rule, sized to land near the thresholds by the nature of the behaviour (a big
office's morning, a script's request rate), not clamped below them.
"""

from __future__ import annotations

from collections.abc import Callable

from ._attacks import day1, deletes, failures, grant, person
from .corpus import (
    BASE_TS,
    BENIGN,
    DAY,
    HOUR,
    MINUTE,
    Person,
    Scenario,
    World,
    ci_pipeline,
    ci_pipelines,
    random_ipv4,
)


def build_benign(sid: str, variant: str, w: World) -> Scenario:
    """``w``: a tenant's background (see ``corpus.fork``); the situation is added to it."""
    description = BENIGN_BUILDERS[variant](w)
    return Scenario(sid, BENIGN, variant, w.sorted_events(), None, description)


def bn_quiet(w: World) -> str:
    return "two ordinary days"


def bn_typos(w: World) -> str:
    rng = w.rng
    people = rng.sample(w.people, min(len(w.people), rng.randint(2, 4)))
    for p in people:
        t, ip = day1(rng, 8, 18), rng.choice((w.office_ip, p.home_ip))
        failures(w, t, p.name, ip, [rng.uniform(5, 25)] * (rng.randint(2, 3) - 1))
        w.emit(t + 90, "auth.login", p.name, source_ip=ip)
    return f"{len(people)} people mistype their password two or three times"


def bn_forgot(w: World) -> str:
    """Someone who forgot a password tries 3–9 variants over a few minutes, then resets it
    and signs in; the reset page sometimes takes another typo."""
    rng, p = w.rng, person(w)
    n, t = rng.randint(3, 9), day1(rng, 8, 18)
    ip = rng.choice((w.office_ip, p.home_ip))
    failures(w, t, p.name, ip, [rng.uniform(8, 60) for _ in range(n - 1)])
    later = t + rng.uniform(4, 30) * MINUTE
    w.emit(later, "user.password.reset", p.name, target=p.name, source_ip=ip)
    w.login(p, later + 60, ip, typo_p=0.3)
    return f"{p.name} forgot the password: {n} failures, reset, signed in"


def bn_stale_script(w: World) -> str:
    """A backup job with a stale password retries with exponential back-off (10 s
    doubling to a 60 s cap, ±20 % jitter) for up to an hour and a half."""
    rng = w.rng
    ip, t = random_ipv4(rng, [w.office_ip]), day1(rng, 0, 20)
    end, gap = t + rng.uniform(20, 90) * MINUTE, 10.0
    while t < end:
        w.emit(t, "auth.login", "svc-backup", outcome="failure", source_ip=ip)
        t += gap * rng.uniform(0.8, 1.2)
        gap = min(gap * 2, 60.0)
    return "a backup job retries a stale password with back-off"


def bn_office_nat(w: World) -> str:
    """A large office behind one NAT address arrives for a 09:00 stand-up: 20–60 staff
    sign in within minutes, each mistyping with probability 0.12."""
    rng = w.rng
    staff = rng.randint(20, 60)
    fails = 0
    for i in range(staff):
        t = BASE_TS + DAY + rng.gauss(9 * HOUR, 6 * MINUTE)
        p = Person(f"staff{i:02d}", f"tok-staff{i:02d}", w.office_ip)
        if rng.random() < 0.12:
            for _ in range(rng.choice((1, 1, 2))):
                w.emit(t, "auth.login", p.name, outcome="failure", source_ip=w.office_ip)
                t += rng.uniform(4, 20)
                fails += 1
        w.emit(t, "auth.login", p.name, source_ip=w.office_ip)
    return f"{staff} staff sign in through one NAT address around 09:00, {fails} typos"


def bn_bulk_cleanup(w: World) -> str:
    """The admin deletes 10–19 leftover VMs in one sitting (below the threshold of 20)."""
    assert w.admin is not None
    n = w.rng.randint(10, 19)
    deletes(w, w.admin.name, n, w.rng.uniform(240, 900), ("vm",))
    return f"{w.admin.name} cleans up {n} VMs"


def bn_travel(w: World) -> str:
    """Someone works from a hotel on day 0 (the learning period) and again on day 1."""
    rng, p = w.rng, person(w)
    hotel = random_ipv4(rng, [w.office_ip, p.home_ip])
    for day, h in ((0, rng.uniform(14, 19)), (1, rng.uniform(8, 18))):
        t = BASE_TS + day * DAY + h * HOUR
        w.emit(t, "token.use", p.name, target=p.token, source_ip=hotel)
        w.requests(p, t, t + rng.uniform(20, 60) * MINUTE, hotel, p.rate)
    return f"{p.name} travels: a hotel address on the learning day and again on day 1"


def bn_dynamic_ip(w: World) -> str:
    """A home router gets a new DHCP lease in the same /24."""
    rng, p = w.rng, person(w)
    prefix, last = p.home_ip.rsplit(".", 1)
    new_ip = f"{prefix}.{(int(last) + rng.randint(1, 200)) % 254 + 1}"
    t = day1(rng, 8, 18)
    w.emit(t, "token.use", p.name, target=p.token, source_ip=new_ip)
    w.requests(p, t, t + rng.uniform(20, 60) * MINUTE, new_ip, p.rate)
    return f"{p.name}'s home address changes within its /24"


def bn_ci_bursts(w: World) -> str:
    """Heavier CI all along (a second stream of pipelines 2–3x the usual size over both
    days), plus a release pipeline on day 1 as big as the biggest regular ones."""
    ci_pipelines(w, BASE_TS, BASE_TS + 2 * DAY, scale=w.rng.uniform(2.0, 3.0))
    t = day1(w.rng, 10, 16)
    ci_pipeline(w, t, w.rng.randint(120, 180), w.rng.uniform(2, 4))
    return "bursty CI traffic with a release pipeline"


def bn_busy_user(w: World) -> str:
    """A read-only script (an export, a report) run by hand: 40–95 requests a minute for
    15–40 minutes."""
    rng, p = w.rng, person(w)
    rate, t = rng.uniform(40, 95), day1(rng, 9, 17)
    w.requests(p, t, t + rng.uniform(15, 40) * MINUTE, w.office_ip, rate, writes=0.0)
    return f"{p.name} runs a script at ~{rate:.0f} requests/min"


def bn_admin_grants(w: World) -> str:
    """A day of legitimate role changes, including the near misses of every escalation
    rule: an admin promoting someone else, an admin's failed (typo) privileged grant
    retried, a denied self-grant followed by an ordinary role, and a denied self-grant
    followed hours later by an approved promotion."""
    rng, a = w.rng, w.admin
    assert a is not None
    t = day1(rng, 9, 11)
    people = rng.sample(w.people, min(3, len(w.people)))
    for p in w.people:
        grant(w, t, a, p.name, rng.choice(("viewer", "operator")), "success")
        t += rng.uniform(30, 300)
    grant(w, t, a, people[0].name, "admin", "success")
    t += rng.uniform(60, 600)
    grant(w, t, a, people[1].name, "admin", "failure")
    grant(w, t + rng.uniform(20, 120), a, people[1].name, "admin", "success")
    t += rng.uniform(600, 1800)
    grant(w, t, people[2], people[2].name, "admin", "denied")
    grant(w, t + rng.uniform(2, 25) * MINUTE, a, people[2].name, "viewer", "success")
    grant(w, t + rng.uniform(2, 4) * HOUR, a, people[2].name, "admin", "success")
    return "an admin's day of role changes"


_QEMU_NEAR_MISSES = (
    "kernel: python3[{pid}]: segfault at 0 ip 00007f3a1c2b4e10 sp 00007ffc0a1b2c30 error 4 in "
    "libpython3.11.so.1.0[7f3a1c000000+2a5000]",
    "kernel: audit: type=1326 audit(1772467200.120:88): auid=1000 uid=1000 gid=1000 ses=3 "
    'pid={pid} comm="chromium" exe="/usr/lib/chromium/chromium" sig=0 arch=c000003e '
    "syscall=273 compat=0 ip=0x7f0c code=0x50000",
    "qemu-system-x86_64: warning: vhost-net requested but could not be initialized",
    "qemu-system-x86_64: -netdev tap,id=n0,vhost=on: vhost-net support is not compiled in",
    "python3: ../Modules/_ctypes/cfield.c:214: PyCField_set: Assertion `self->index' failed.",
    "kernel: kvm: emulating exchange as write",
    "qemu-system-x86_64: warning: virtio-blk: discard request not supported",
    "qemu-system-x86_64: terminating on signal 15 from pid {pid} (/usr/bin/novacron-agent)",
)


def bn_noisy_qemu(w: World) -> str:
    """Host logs with every near miss of the escape patterns: another program's segfault,
    assertion or seccomp record, vhost start-up configuration messages, KVM chatter."""
    rng = w.rng
    for line in _QEMU_NEAR_MISSES:
        for _ in range(rng.randint(1, 3)):
            w.log(
                day1(rng, 0, 23.5), rng.choice(w.hosts), line.format(pid=rng.randint(300, 99_999))
            )
    return "host logs full of harmless look-alikes"


BENIGN_BUILDERS: dict[str, Callable[[World], str]] = {
    "quiet_days": bn_quiet,
    "typo_logins": bn_typos,
    "forgot_password": bn_forgot,
    "stale_script": bn_stale_script,
    "office_nat": bn_office_nat,
    "bulk_cleanup": bn_bulk_cleanup,
    "travel_during_learning": bn_travel,
    "dynamic_ip": bn_dynamic_ip,
    "ci_bursts": bn_ci_bursts,
    "busy_user": bn_busy_user,
    "admin_grants": bn_admin_grants,
    "noisy_qemu": bn_noisy_qemu,
}
