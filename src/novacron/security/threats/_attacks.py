"""The attacks of the corpus, one function per variant (plus helpers shared with
``_benign.py``).

Attacks are placed on day 1, after the one-day learning period of the token rule and
with at least a day of history for the volume baseline.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from .corpus import (
    BASE_TS,
    DAY,
    HOUR,
    MINUTE,
    Person,
    Scenario,
    World,
    random_ipv4,
)

PRIVILEGED = ("admin", "platform-admin")


def day1(rng: random.Random, h0: float, h1: float) -> float:
    return BASE_TS + DAY + rng.uniform(h0, h1) * HOUR


def person(w: World) -> Person:
    return w.rng.choice(w.people)


def build_attack(sid: str, family: str, variant: str, w: World) -> Scenario:
    """``w``: a tenant's background (see ``corpus.fork``); the attack is added to it."""
    mark = len(w.events)
    description = ATTACKS[family, variant](w)
    start = min(t for t, _, _ in w.events[mark:])
    return Scenario(
        id=sid,
        label=family,
        variant=variant,
        events=w.sorted_events(),
        attack_start=datetime.fromtimestamp(start, UTC),
        description=description,
    )


# ================================================================ brute force


def failures(w: World, t: float, actor: str, ip: str, gaps: list[float]) -> None:
    w.emit(t, "auth.login", actor, outcome="failure", source_ip=ip)
    for gap in gaps:
        t += gap
        w.emit(t, "auth.login", actor, outcome="failure", source_ip=ip)


def bf_fast(w: World) -> str:
    rng, p = w.rng, person(w)
    n = rng.randint(15, 60)
    failures(w, day1(rng, 9, 17), p.name, random_ipv4(rng), [rng.uniform(1, 6)] * (n - 1))
    return f"{n} password guesses against {p.name} from one address, seconds apart"


def bf_slow(w: World) -> str:
    """Just above the threshold: 10–12 guesses spread over 4–4.8 minutes."""
    rng, p = w.rng, person(w)
    n = rng.randint(10, 12)
    span = rng.uniform(240, 288)
    failures(w, day1(rng, 9, 17), p.name, random_ipv4(rng), [span / (n - 1)] * (n - 1))
    return f"{n} guesses against {p.name} over {span:.0f} s (threshold 10 in 5 min)"


def bf_distributed(w: World) -> str:
    rng, p = w.rng, person(w)
    ips = [random_ipv4(rng) for _ in range(rng.randint(5, 12))]
    n = rng.randint(12, 30)
    t = day1(rng, 9, 17)
    span = rng.uniform(120, 290)
    for i in range(n):
        ip = rng.choice(ips)
        w.emit(t + span * i / n, "auth.login", p.name, outcome="failure", source_ip=ip)
    return f"{n} guesses against {p.name} from {len(ips)} rotating addresses"


_GUESSES = ("admin", "root", "test", "backup", "ops", "dev", "deploy", "svc", "guest", "demo")


def _spray(w: World, accounts: int, gap: tuple[float, float], passes: int) -> str:
    rng = w.rng
    names = [p.name for p in w.people] + [w.admin.name if w.admin else "ops"] + list(_GUESSES)
    targets = rng.sample(names, min(accounts, len(names)))
    ip, t = random_ipv4(rng), day1(rng, 9, 17)
    for _ in range(passes):
        for name in targets:
            w.emit(t, "auth.login", name, outcome="failure", source_ip=ip)
            t += rng.uniform(*gap)
    return f"{len(targets)} accounts × {passes} password(s) from {ip}"


def bf_spray(w: World) -> str:
    return _spray(w, w.rng.randint(10, 17), (3, 35), w.rng.choice((1, 2)))


def bf_spray_slow(w: World) -> str:
    """Just above the spraying threshold: 8–10 accounts, about a minute apart."""
    return _spray(w, w.rng.randint(8, 10), (45, 70), 1)


# ================================================================ token misuse


def _stolen(w: World, t: float, ip: str) -> str:
    rng, p = w.rng, person(w)
    minutes = rng.uniform(3, 30)
    t1 = t + minutes * MINUTE
    w.emit(t, "token.use", p.name, target=p.token, source_ip=ip)
    w.requests(p, t, t1, ip, rng.uniform(0.5, 6))
    return f"{p.token} replayed from {ip} for {minutes:.0f} min"


def tok_stolen(w: World) -> str:
    home = [p.home_ip for p in w.people]
    return _stolen(w, day1(w.rng, 10, 17), random_ipv4(w.rng, [w.office_ip, *home]))


def tok_stolen_v6(w: World) -> str:
    r = w.rng
    ip = f"2001:db8:{r.randrange(65536):x}:{r.randrange(65536):x}::{r.randrange(1, 65536):x}"
    return _stolen(w, day1(r, 10, 17), ip)


def tok_stolen_evening(w: World) -> str:
    home = [p.home_ip for p in w.people]
    return _stolen(w, day1(w.rng, 20, 23.5), random_ipv4(w.rng, [w.office_ip, *home]))


# ================================================================ privilege escalation


def grant(w: World, t: float, actor: Person, target: str, role: str, outcome: str) -> None:
    ip = w.office_ip if w.rng.random() < 0.7 else actor.home_ip
    detail = {"role": role, "actor_role": actor.role}
    w.emit(t, "role.grant", actor.name, target=target, outcome=outcome, source_ip=ip, detail=detail)


def pe_self_grant(w: World) -> str:
    p = person(w)
    grant(w, day1(w.rng, 9, 18), p, p.name, "admin", "success")
    return f"member {p.name} granted itself admin"


def pe_admin_self_grant(w: World) -> str:
    assert w.admin is not None
    grant(w, day1(w.rng, 9, 18), w.admin, w.admin.name, "platform-admin", "success")
    return f"project admin {w.admin.name} granted itself platform-admin"


def pe_non_admin_grant(w: World) -> str:
    p = person(w)
    other = w.rng.choice([q.name for q in w.people if q is not p] + ["svc-backup"])
    grant(w, day1(w.rng, 9, 18), p, other, w.rng.choice(PRIVILEGED), "success")
    return f"member {p.name} granted a privileged role to {other}"


def pe_denied_then_granted(w: World) -> str:
    assert w.admin is not None
    p, t = person(w), day1(w.rng, 9, 17)
    grant(w, t, p, p.name, "admin", "denied")
    grant(w, t + w.rng.uniform(2, 28) * MINUTE, w.admin, p.name, "admin", "success")
    return f"{p.name} was denied admin, then the admin account granted it"


# ================================================================ mass deletion


def deletes(w: World, actor: str, n: int, span: float, kinds: tuple[str, ...]) -> None:
    rng, t = w.rng, day1(w.rng, 9, 18)
    for i in range(n):
        kind = rng.choice(kinds)
        target = f"{kind}-{rng.randrange(100_000):05d}"
        w.emit(
            t + span * i / max(n - 1, 1),
            f"{kind}.delete",
            actor,
            target=target,
            source_ip=w.office_ip,
        )


def md_burst(w: World) -> str:
    actor = w.rng.choice([*w.people, w.admin]).name  # type: ignore[union-attr]
    n = w.rng.randint(25, 80)
    deletes(w, actor, n, w.rng.uniform(120, 360), ("vm",))
    return f"{actor} deleted {n} VMs within minutes"


def md_slow(w: World) -> str:
    """Just above the threshold: 20–22 deletions spread over 8–9.5 minutes."""
    actor = person(w).name
    n = w.rng.randint(20, 22)
    deletes(w, actor, n, w.rng.uniform(480, 570), ("vm",))
    return f"{actor} deleted {n} VMs over about nine minutes (threshold 20 in 10 min)"


def md_mixed(w: World) -> str:
    actor = person(w).name
    n = w.rng.randint(22, 40)
    deletes(w, actor, n, w.rng.uniform(300, 540), ("vm", "volume", "snapshot", "image"))
    return f"{actor} deleted {n} VMs, volumes, snapshots and images"


# ================================================================ API volume


def av_user_spike(w: World) -> str:
    p = person(w)
    rate, minutes = w.rng.uniform(150, 400), w.rng.uniform(1.5, 4)
    t = day1(w.rng, 13, 17)
    w.requests(p, t, t + minutes * MINUTE, w.office_ip, rate)
    return f"{p.name}'s credentials made ~{rate:.0f} requests/min for {minutes:.0f} min"


def av_ci_token_abuse(w: World) -> str:
    assert w.ci is not None
    rate, minutes = w.rng.uniform(300, 1000), w.rng.uniform(1.5, 3)
    t = day1(w.rng, 13, 17)
    w.requests(w.ci, t, t + minutes * MINUTE, w.ci.home_ip, rate)
    return f"the CI token made ~{rate:.0f} requests/min for {minutes:.0f} min"


def av_just_above_floor(w: World) -> str:
    """Just above the floor of 100 a minute: 115–160 a minute for 3–6 minutes."""
    p = person(w)
    rate, minutes = w.rng.uniform(115, 160), w.rng.uniform(3, 6)
    t = day1(w.rng, 13, 17)
    w.requests(p, t, t + minutes * MINUTE, p.home_ip, rate)
    return f"{p.name} made ~{rate:.0f} requests/min for {minutes:.0f} min"


# ================================================================ VM escape


def _escape(w: World, lines: list[str]) -> None:
    host, t = w.rng.choice(w.hosts), day1(w.rng, 0, 23.5)
    for line in lines:
        w.log(t, host, line)
        t += w.rng.uniform(0.001, 2)


_ASSERTS = (
    ("scsi/lsi53c895a.c:624", "lsi_do_dma", "s->current"),
    ("usb/hcd-ehci.c:2111", "ehci_state_fetchqtd", "p->qtdaddr == q->qtdaddr"),
    ("net/e1000e_core.c:1460", "e1000e_write_packet_to_guest", "size <= len"),
    ("display/qxl.c:1412", "qxl_add_memslot", "guest_end <= pci_region"),
    ("ide/core.c:934", "ide_dma_cb", "s->bus->dma->aiocb == NULL"),
)


def esc_assertion(w: World) -> str:
    path, func, expr = w.rng.choice(_ASSERTS)
    if w.rng.random() < 0.5:
        line = f"qemu-system-x86_64: ../hw/{path}: {func}: Assertion `{expr}' failed."
    else:
        file, lineno = path.split(":")
        line = f"Bail out! ERROR:../hw/{file}:{lineno}:{func}: assertion failed: ({expr})"
    _escape(w, [line, "qemu-system-x86_64: terminating on signal 6"])
    return "guest-triggered assertion in a device model"


def esc_segfault(w: World) -> str:
    r = w.rng
    pid, ip = r.randint(1000, 99_999), r.randrange(1 << 44, 1 << 47)
    if r.random() < 0.7:
        line = (
            f"kernel: qemu-system-x86[{pid}]: segfault at {r.randrange(1 << 32):x} ip "
            f"{ip:016x} sp 00007ffd{r.randrange(1 << 32):08x} error {r.choice((4, 6, 7))} in "
            f"qemu-system-x86_64[{ip & ~0xFFFFF:x}+6a5000] likely on CPU {r.randrange(8)}"
        )
    else:
        line = (
            f"kernel: traps: qemu-system-x86[{pid}] general protection fault ip:{ip:x} "
            f"sp:7ffd{r.randrange(1 << 32):08x} error:0 in "
            f"qemu-system-x86_64[{ip & ~0xFFFFF:x}+6a5000]"
        )
    _escape(w, [line])
    return "QEMU killed by a memory fault"


_VIRTIO = (
    "qemu-system-x86_64: Guest moved used index from 0 to 61440",
    "qemu-system-x86_64: virtio: zero sized buffers are not allowed",
    "qemu-system-x86_64: Desc next is 4095",
    "qemu-system-x86_64: Looped descriptor",
    "qemu-system-x86_64: Virtqueue size exceeded",
    "qemu-system-x86_64: Invalid size for indirect buffer table",
    "qemu-system-x86_64: virtio-gpu: resource 7 backing out of bounds",
)


def esc_virtio(w: World) -> str:
    _escape(w, [w.rng.choice(_VIRTIO)])
    return "guest put an impossible descriptor on a virtio ring"


_CORRUPTION = (
    "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x60b000014e50 at pc "
    "0x55d0c0b0a0b0 bp 0x7ffd5b2c sp 0x7ffd5b20",
    "==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x619000032a80",
    "double free or corruption (!prev)",
    "malloc(): corrupted top size",
    "qemu-system-x86_64: hw/usb/core.c:578: usb_packet_complete: use-after-free of USBPacket",
)


def esc_memory(w: World) -> str:
    _escape(w, [w.rng.choice(_CORRUPTION)])
    return "memory corruption detected inside QEMU"


def esc_seccomp(w: World) -> str:
    r = w.rng
    when = f"{BASE_TS + DAY:.3f}:{r.randint(100, 9999)}"
    head = "type=SECCOMP msg=audit(" if r.random() < 0.5 else "kernel: audit: type=1326 audit("
    line = (
        f"{head}{when}): auid=4294967295 uid=64055 gid=64055 ses=4294967295 pid="
        f'{r.randint(1000, 99_999)} comm="qemu-system-x86" exe="/usr/bin/qemu-system-x86_64" '
        f"sig=31 arch=c000003e syscall={r.choice((59, 41, 57, 101))} compat=0 "
        f"ip=0x7f{r.randrange(1 << 36):x} code=0x80000000"
    )
    _escape(w, [line])
    return "QEMU's seccomp sandbox killed a forbidden system call"


_VHOST = (
    "qemu-system-x86_64: vhost_set_vring_addr failed: Bad address (14)",
    "qemu-system-x86_64: vhost VQ 1 ring restore failed: -22: Invalid argument (22)",
    "qemu-system-x86_64: vhost-vdpa: VHOST_SET_VRING_BASE failed: Invalid argument",
    "qemu-system-x86_64: vhost_set_vring_call failed: Invalid argument (22)",
)


def esc_vhost(w: World) -> str:
    _escape(w, [w.rng.choice(_VHOST)])
    return "vhost refused ring state from the guest"


def esc_kvm(w: World) -> str:
    first = w.rng.choice(
        ("KVM internal error. Suberror: 1", "KVM: entry failed, hardware error 0x80000021")
    )
    _escape(w, [first, "extra data[0]: 0x0000000000000001", "emulation failure"])
    return "KVM could not emulate what the guest did"


ATTACKS: dict[tuple[str, str], Callable[[World], str]] = {
    ("brute_force", "fast"): bf_fast,
    ("brute_force", "slow"): bf_slow,
    ("brute_force", "distributed"): bf_distributed,
    ("brute_force", "spray"): bf_spray,
    ("brute_force", "spray_slow"): bf_spray_slow,
    ("token_misuse", "stolen_token"): tok_stolen,
    ("token_misuse", "stolen_token_v6"): tok_stolen_v6,
    ("token_misuse", "stolen_token_evening"): tok_stolen_evening,
    ("privilege_escalation", "self_grant"): pe_self_grant,
    ("privilege_escalation", "admin_self_grant"): pe_admin_self_grant,
    ("privilege_escalation", "non_admin_grant"): pe_non_admin_grant,
    ("privilege_escalation", "denied_then_granted"): pe_denied_then_granted,
    ("mass_deletion", "burst"): md_burst,
    ("mass_deletion", "slow"): md_slow,
    ("mass_deletion", "mixed"): md_mixed,
    ("api_volume", "user_spike"): av_user_spike,
    ("api_volume", "ci_token_abuse"): av_ci_token_abuse,
    ("api_volume", "just_above_floor"): av_just_above_floor,
    ("vm_escape", "assertion"): esc_assertion,
    ("vm_escape", "segfault"): esc_segfault,
    ("vm_escape", "virtio"): esc_virtio,
    ("vm_escape", "memory_corruption"): esc_memory,
    ("vm_escape", "seccomp"): esc_seccomp,
    ("vm_escape", "vhost"): esc_vhost,
    ("vm_escape", "kvm_internal"): esc_kvm,
}
