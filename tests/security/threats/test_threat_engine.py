"""The engine over the shipped rules: every family fires on its attack and stays quiet on
the near miss next to it; cool-downs, time order, bounded state."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from novacron.core.errors import Invalid
from novacron.security.threats import Detection, Engine, Rule, SecurityEvent, parse_rules
from novacron.security.threats.detection import MAX_EVIDENCE

Ev = Callable[..., SecurityEvent]
Run = Callable[[list[SecurityEvent]], list[Detection]]
DAY = 86400.0
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the ``ev`` fixture's time zero (conftest.py)


def ids(detections: list[Detection]) -> list[str]:
    return [d.rule_id for d in detections]


def fail(ev: Ev, t: float, actor: str, ip: str = "198.51.100.7") -> SecurityEvent:
    return ev(t, "auth.login", actor=actor, outcome="failure", source_ip=ip)


# ================================================================ brute force


def test_brute_force_on_one_account_fires_once_with_its_evidence(ev: Ev, run: Run) -> None:
    events = [fail(ev, 30 * i, "bob") for i in range(10)]  # 10 in 270 s
    (d,) = run(events)
    assert (d.rule_id, d.family, d.priority) == ("brute-force-actor", "brute_force", "high")
    assert (d.mitre.technique, d.mitre.tactic) == ("T1110.001", "credential-access")
    assert d.group == {"actor": "bob"} and d.count == 10
    assert (d.first_ts, d.ts) == (T0, T0 + timedelta(seconds=270))
    assert d.evidence == tuple(e.request_id for e in events)
    assert d.summary == "10 failed logins for actor=bob within 5m (threshold 10)"
    json.dumps(d.as_dict())  # JSON-ready for the API


def test_brute_force_near_miss_nine_in_the_window(ev: Ev, run: Run) -> None:
    # Ten failures 34 s apart: the tenth comes 306 s after the first, so never 10 in 5 min.
    assert run([fail(ev, 34 * i, "bob") for i in range(10)]) == []
    # A person mistyping three times, and a hundred successful logins, are nothing.
    ok = [ev(10 * i, "auth.login", actor="bob", source_ip="198.51.100.7") for i in range(100)]
    assert run([fail(ev, 0, "bob"), fail(ev, 5, "bob"), fail(ev, 9, "bob"), *ok]) == []


def test_brute_force_from_one_address_across_accounts(ev: Ev, run: Run) -> None:
    events = [fail(ev, 10 * i, ["a", "b", "c"][i % 3]) for i in range(20)]
    (d,) = run(events)
    assert d.rule_id == "brute-force-source-ip" and d.group == {"source_ip": "198.51.100.7"}


def test_password_spraying_counts_distinct_accounts(ev: Ev, run: Run) -> None:
    spray = [fail(ev, 70 * i, f"user{i}") for i in range(8)]  # 8 accounts in 490 s
    (d,) = run(spray)
    assert d.rule_id == "password-spraying" and d.count == 8
    assert "user0" in d.summary and "user7" in d.summary
    # Seven accounts, or eight spread over more than ten minutes, are not spraying.
    assert run(spray[:7]) == []
    assert run([fail(ev, 90 * i, f"user{i}") for i in range(8)]) == []
    # The same account eight times is one distinct value.
    assert run([fail(ev, 70 * i, "same") for i in range(8)]) == []


def test_cool_down_one_detection_per_group_and_window(ev: Ev, run: Run) -> None:
    # A failure every 5 s for 12 minutes: 145 events, one detection per 5-minute cool-down.
    found = run([fail(ev, 5 * i, "bob", ip=f"203.0.113.{i % 200}") for i in range(145)])
    times = [(d.ts - T0).total_seconds() for d in found if d.rule_id == "brute-force-actor"]
    assert times == [45.0, 345.0, 645.0]
    # Another account is another group: it fires despite bob's cool-down.
    mixed = [fail(ev, 5 * i, "bob", ip="10.0.0.1") for i in range(20)]
    mixed += [fail(ev, 2 + 5 * i, "eve", ip="10.0.0.2") for i in range(10)]
    actor_hits = [d.group["actor"] for d in run(mixed) if d.rule_id == "brute-force-actor"]
    assert actor_hits == ["bob", "eve"]


# ================================================================ token misuse


def use(ev: Ev, t: float, ip: str, token: str = "tok-1") -> SecurityEvent:
    return ev(t, "token.use", actor="bob", target=token, source_ip=ip)


def test_token_from_a_new_network_after_learning(ev: Ev, run: Run) -> None:
    events = [
        use(ev, 0, "198.51.100.10"),  # first address: learning
        use(ev, 6 * 3600, "192.0.2.20"),  # a trip during learning: learned, no detection
        use(ev, DAY + 3600, "192.0.2.20"),  # known
        use(ev, DAY + 3700, "198.51.100.99"),  # same /24 as the first: known
        use(ev, DAY + 7200, "203.0.113.5"),  # new network after learning: detection
        use(ev, DAY + 7300, "203.0.113.5"),  # now known
        use(ev, DAY + 7400, "100.64.1.1"),  # new, but inside the hour's cool-down
        use(ev, DAY + 4 * 3600, "100.65.2.2"),  # new, after the cool-down: detection
    ]
    found = run(events)
    assert [(d.rule_id, (d.ts - T0).total_seconds()) for d in found] == [
        ("token-new-source-ip", DAY + 7200),
        ("token-new-source-ip", DAY + 4 * 3600),
    ]
    assert found[0].group == {"target": "tok-1"}
    assert "203.0.113.5 never seen before" in found[0].summary
    assert "198.51.100.0/24" in found[0].summary and "192.0.2.0/24" in found[0].summary


def test_token_learning_is_per_token_and_ignores_failures(ev: Ev, run: Run) -> None:
    events = [
        use(ev, 0, "198.51.100.10", token="tok-old"),
        # A token first seen after the engine's first day still learns its own first day.
        use(ev, 2 * DAY, "198.51.100.10", token="tok-new"),
        use(ev, 2 * DAY + 60, "203.0.113.5", token="tok-new"),
        # A refused token use from anywhere is not a use of the token.
        ev(2 * DAY + 120, "token.use", target="tok-old", source_ip="9.9.9.9", outcome="denied"),
    ]
    assert run(events) == []


def test_token_ipv6_compares_by_64(ev: Ev, run: Run) -> None:
    base = [use(ev, 0, "2001:db8:1:2::10")]
    assert run([*base, use(ev, DAY + 60, "2001:db8:1:2::99")]) == []
    (d,) = run([*base, use(ev, DAY + 60, "2001:db8:1:3::10")])
    assert d.rule_id == "token-new-source-ip"


# ================================================================ privilege escalation


def grant(
    ev: Ev, t: float, actor: str, target: str, role: str, actor_role: str, outcome: str = "success"
) -> SecurityEvent:
    detail = {"role": role, "actor_role": actor_role}
    return ev(t, "role.grant", actor=actor, target=target, outcome=outcome, detail=detail)


def test_self_grant_and_grant_by_non_admin(ev: Ev, run: Run) -> None:
    assert ids(run([grant(ev, 0, "bob", "bob", "admin", "member")])) == [
        "self-grant-privileged-role",
        "privileged-grant-by-non-admin",
    ]
    assert ids(run([grant(ev, 0, "ops", "ops", "platform-admin", "admin")])) == [
        "self-grant-privileged-role"
    ]
    assert ids(run([grant(ev, 0, "bob", "eve", "admin", "operator")])) == [
        "privileged-grant-by-non-admin"
    ]


def test_ordinary_grants_are_quiet(ev: Ev, run: Run) -> None:
    events = [
        grant(ev, 0, "ops", "bob", "admin", "admin"),  # an admin promoting someone else
        grant(ev, 10, "bob", "bob", "viewer", "member"),  # self-granting a harmless role
        grant(ev, 20, "bob", "bob", "admin", "member", outcome="denied"),  # refused
        ev(30, "role.grant", actor="x", target="y", detail={"role": "admin"}),  # no actor_role
    ]
    assert run(events) == []


def test_denied_then_granted_within_the_window(ev: Ev, run: Run) -> None:
    denied = grant(ev, 0, "bob", "bob", "admin", "member", outcome="denied")
    (d,) = run([denied, grant(ev, 600, "ops", "bob", "admin", "admin")])
    assert d.rule_id == "denied-then-granted-privilege" and d.group == {"target": "bob"}
    assert (d.first_ts, d.count) == (T0, 2)
    assert d.evidence == (denied.request_id, d.evidence[1]) and len(d.evidence) == 2
    # Near misses: granted after 31 minutes, a typo (failure) instead of a denial, or an
    # ordinary role granted after the denial.
    assert run([denied, grant(ev, 31 * 60, "ops", "bob", "admin", "admin")]) == []
    typo = grant(ev, 0, "ops", "bob", "admin", "admin", outcome="failure")
    assert run([typo, grant(ev, 60, "ops", "bob", "admin", "admin")]) == []
    assert run([denied, grant(ev, 60, "ops", "bob", "viewer", "admin")]) == []


# ================================================================ mass deletion


def delete(ev: Ev, t: float, actor: str, target: str) -> SecurityEvent:
    return ev(t, "vm.delete", actor=actor, target=target)


def test_mass_deletion_and_its_near_miss(ev: Ev, run: Run) -> None:
    twenty = [delete(ev, 27 * i, "alice", f"vm-{i}") for i in range(20)]  # 513 s
    (d,) = run(twenty)
    assert (d.rule_id, d.count, d.group) == ("mass-deletion", 20, {"actor": "alice"})
    assert len(d.evidence) == MAX_EVIDENCE  # bounded: the last ten request ids
    assert run(twenty[:19]) == []
    # Twenty spread over more than ten minutes, or failed deletions, are not counted.
    assert run([delete(ev, 32 * i, "alice", f"vm-{i}") for i in range(20)]) == []
    failed = [ev(i, "vm.delete", actor="a", target=f"v{i}", outcome="failure") for i in range(30)]
    assert run(failed) == []


def test_mass_deletion_exempts_what_the_actor_created_within_a_day(ev: Ev, run: Run) -> None:
    created = [ev(i, "vm.create", actor="ci-bot", target=f"vm-{i}") for i in range(25)]
    teardown = [delete(ev, 3600 + 10 * i, "ci-bot", f"vm-{i}") for i in range(25)]
    assert run(created + teardown) == []
    # Someone else's VMs, or its own from two days ago, count.
    others = [delete(ev, 3600 + 10 * i, "mallory", f"vm-{i}") for i in range(25)]
    assert ids(run(created + others)) == ["mass-deletion"]
    stale = [delete(ev, 2 * DAY + 10 * i, "ci-bot", f"vm-{i}") for i in range(25)]
    assert ids(run(created + stale)) == ["mass-deletion"]


# ================================================================ API volume


def minutes_of(ev: Ev, actor: str, counts: list[int], start: float = 0) -> list[SecurityEvent]:
    """``counts[i]`` requests spread over minute ``i`` after ``start``."""
    out = []
    for i, n in enumerate(counts):
        out += [ev(start + 60 * i + 59 * j / n, "vm.get", actor=actor) for j in range(n)]
    return out


def test_volume_spike_against_the_actors_own_baseline(ev: Ev, run: Run) -> None:
    history = minutes_of(ev, "bob", [5] * 30)
    (d,) = run(history + minutes_of(ev, "bob", [150], start=3600))
    assert d.rule_id == "api-volume-spike" and d.group == {"actor": "bob"}
    assert d.count == 100  # fires on the request that crosses the floor, mid-minute
    assert d.first_ts == T0 + timedelta(seconds=3600)
    # The near miss: 95 a minute is below the floor of 100.
    assert run(history + minutes_of(ev, "bob", [95], start=3600)) == []
    # No history, no baseline: a brand-new actor is never flagged (cold start).
    assert run(minutes_of(ev, "new", [500])) == []
    # Failed requests are not the actor's traffic.
    failed = [ev(3600 + i * 0.1, "vm.get", actor="bob", outcome="denied") for i in range(300)]
    assert run(history + failed) == []


def test_bursty_ci_keeps_its_variance(ev: Ev, run: Run) -> None:
    history = minutes_of(ev, "ci", [5, 90] * 20)  # pipelines: quiet minutes and bursts
    assert run(history + minutes_of(ev, "ci", [140], start=7200)) == []
    assert ids(run(history + minutes_of(ev, "ci", [400], start=7200))) == ["api-volume-spike"]


def test_a_quiet_night_does_not_lower_the_baseline(ev: Ev, run: Run) -> None:
    day = minutes_of(ev, "ci", [5, 90] * 20)
    morning = minutes_of(ev, "ci", [90, 120, 5], start=12 * 3600)
    assert run(day + morning) == []


# ================================================================ VM escape

ESCAPES = [
    (
        "qemu-system-x86_64: ../hw/scsi/lsi53c895a.c:624: lsi_do_dma: Assertion `s->current' "
        "failed.",
        "qemu-assertion-failure",
    ),
    (
        "Bail out! ERROR:../hw/usb/hcd-ehci.c:2111:ehci_state_fetchqtd: assertion failed: (p)",
        "qemu-assertion-failure",
    ),
    (
        "kernel: qemu-system-x86[4242]: segfault at 0 ip 000055d0c0b0a0b0 sp 00007ffd5b2c9f10 "
        "error 4 in qemu-system-x86_64[55d0c0800000+6a5000]",
        "qemu-segfault",
    ),
    (
        "kernel: traps: qemu-system-x86[4242] general protection fault ip:55d0 sp:7ffd error:0",
        "qemu-segfault",
    ),
    ("qemu-system-x86_64: Guest moved used index from 0 to 61440", "virtio-ring-violation"),
    ("qemu-system-x86_64: virtio: zero sized buffers are not allowed", "virtio-ring-violation"),
    ("qemu-system-x86_64: virtio-gpu: resource 7 out of bounds", "virtio-ring-violation"),
    (
        "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x60b000014e50",
        "qemu-memory-corruption",
    ),
    ("qemu-system-x86_64: hw/usb/core.c: use-after-free of packet", "qemu-memory-corruption"),
    ("double free or corruption (!prev)", "qemu-memory-corruption"),
    (
        'type=SECCOMP msg=audit(1772467200.123:456): pid=4242 comm="qemu-system-x86" '
        'exe="/usr/bin/qemu-system-x86_64" sig=31 arch=c000003e syscall=59 code=0x80000000',
        "qemu-seccomp-violation",
    ),
    ("qemu-system-x86_64: vhost_set_vring_addr failed: Bad address (14)", "vhost-ioctl-failure"),
    ("qemu-system-x86_64: vhost VQ 1 ring restore failed: -22", "vhost-ioctl-failure"),
    ("KVM internal error. Suberror: 1", "kvm-internal-error"),
]

NEAR_MISSES = [
    "kernel: python3[2211]: segfault at 0 ip 00007f3a1c2b4e10 sp 00007ffc0a1b2c30 error 4",
    'audit: type=1326 audit(1.1:8): pid=9 comm="chromium" exe="/usr/lib/chromium/chromium" sig=0',
    "qemu-system-x86_64: warning: vhost-net requested but could not be initialized",
    "python3: ../Modules/_ctypes/cfield.c:214: PyCField_set: Assertion `self->index' failed.",
    "qemu-system-x86_64: terminating on signal 15 from pid 77 (/usr/bin/novacron-agent)",
    "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.80000001H",
    "kernel: kvm: emulating exchange as write",
]


@pytest.mark.parametrize(("line", "rule_id"), ESCAPES)
def test_escape_signs_in_qemu_logs(ev: Ev, run: Run, line: str, rule_id: str) -> None:
    (d,) = run([ev(0, "qemu.log", host="hv01", message=line)])
    assert (d.rule_id, d.family, d.group) == (rule_id, "vm_escape", {"host": "hv01"})
    assert d.mitre.technique == "T1611" and d.evidence == (line,)


def test_look_alike_host_lines_are_quiet(ev: Ev, run: Run) -> None:
    assert run([ev(i, "qemu.log", host="hv01", message=m) for i, m in enumerate(NEAR_MISSES)]) == []
    # The same text in an audit event's message is not a host log line.
    assert run([ev(0, "vm.update", actor="bob", message=ESCAPES[0][0])]) == []


def test_escape_cool_down_is_per_host(ev: Ev, run: Run) -> None:
    line = ESCAPES[0][0]
    events = [
        ev(0, "qemu.log", host="hv01", message=line),
        ev(30, "qemu.log", host="hv01", message=line),  # same host, same crash: quiet
        ev(40, "qemu.log", host="hv02", message=line),  # another host
        ev(700, "qemu.log", host="hv01", message=line),  # after 10 minutes
    ]
    assert [(d.group["host"], (d.ts - T0).total_seconds()) for d in run(events)] == [
        ("hv01", 0.0),
        ("hv02", 40.0),
        ("hv01", 700.0),
    ]


# ================================================================ the engine


def test_events_must_come_in_time_order(ev: Ev, rules: list[Rule]) -> None:
    engine = Engine(rules)
    engine.feed(ev(10, "vm.get", actor="bob"))
    engine.feed(ev(10, "vm.get", actor="bob"))  # equal times are fine
    with pytest.raises(Invalid, match="older than the previous one"):
        engine.feed(ev(9, "vm.get", actor="bob"))


def test_event_validation(ev: Ev) -> None:
    with pytest.raises(Invalid, match="timezone-aware"):
        SecurityEvent(ts=T0.replace(tzinfo=None), source="audit", action="a")
    with pytest.raises(Invalid, match="source"):
        SecurityEvent(ts=T0, source="syslog", action="a")
    with pytest.raises(Invalid, match="outcome"):
        SecurityEvent(ts=T0, source="audit", action="a", outcome="maybe")
    local = SecurityEvent(
        ts=T0.astimezone(timezone(timedelta(hours=2))), source="audit", action="a"
    )
    assert local.ts == T0 and local.ts.utcoffset() == timedelta(0)
    e = ev(5, "role.grant", actor="a", target="b", detail={"role": "admin"})
    assert SecurityEvent.from_dict(json.loads(json.dumps(e.as_dict()))) == e
    with pytest.raises(Invalid, match="unknown event field"):
        SecurityEvent.from_dict({**e.as_dict(), "colour": "red"})


def test_run_equals_feeding_one_by_one(ev: Ev, rules: list[Rule]) -> None:
    events = [fail(ev, 10 * i, f"u{i % 9}") for i in range(40)]
    one = Engine(rules)
    fed = [d for e in events for d in one.feed(e)]
    assert fed == Engine(rules).run(events) and len(fed) >= 2


def test_state_is_pruned_as_time_passes(ev: Ev, rules: list[Rule]) -> None:
    """An endless stream of distinct attackers: state follows the window, not the stream."""
    rng = random.Random(1)
    engine = Engine(rules)
    peak = 0
    for i in range(12_000):  # one failure a second from ever-new addresses and accounts
        ip = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.1"
        engine.feed(fail(ev, i, f"user{i}", ip=ip))
        if i % 1000 == 0:
            peak = max(peak, engine.state_size())
    # A group lives at most its window plus one prune period (300 s), at one new group a
    # second and 2 items a group: (300+300)·2 per 5-minute rule, (600+300)·2 for spraying.
    # Without pruning it would be 12,000 groups per rule.
    assert 0 < peak <= 2 * (600 + 600 + 900)
    engine.feed(ev(12_000 + DAY, "vm.get", actor="bob"))  # a day later, everything expired
    assert engine.state_size() <= 2 and engine.evicted == 0


def test_group_cap_evicts_the_least_recent(ev: Ev, rules: list[Rule]) -> None:
    engine = Engine(rules, max_groups=50)
    for i in range(1000):
        engine.feed(fail(ev, i * 0.01, f"user{i}", ip=f"10.0.{i // 250}.{i % 250}"))
    by_rule = {d.rule.id: d for d in engine.detectors}
    assert len(by_rule["brute-force-actor"].groups) == 50
    assert len(by_rule["brute-force-source-ip"].groups) == 50
    assert engine.evicted >= 2 * 950


def test_custom_three_step_sequence_and_unless() -> None:
    text = """
rules:
  - id: recon-then-exfil
    title: t
    description: d
    priority: low
    mitre: {technique: T1046, tactic: discovery}
    kind: sequence
    group_by: [actor]
    window: 10m
    steps:
      - {field: action, equals: vm.list}
      - {field: action, equals: snapshot.create}
      - {field: action, equals: image.export}
"""
    (rule,) = parse_rules(text, source="s.yaml", family="custom")
    engine = Engine([rule])

    def feed(t: float, action: str, actor: str = "bob") -> list[str]:
        e = SecurityEvent(ts=T0 + timedelta(seconds=t), source="audit", action=action, actor=actor)
        return [d.rule_id for d in engine.feed(e)]

    assert feed(0, "vm.list") == []
    assert feed(10, "image.export") == []  # out of order: step 3 before step 2
    assert feed(20, "snapshot.create", actor="eve") == []  # another group
    assert feed(30, "snapshot.create") == []
    assert feed(40, "image.export") == ["recon-then-exfil"]
    assert feed(50, "image.export") == []  # the sequence was consumed
    assert feed(700, "snapshot.create") == []  # vm.list at 0 is out of the window now
    assert feed(710, "image.export") == []
