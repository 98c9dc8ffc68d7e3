"""Mutes: need a reason and a future expiry, apply to failures only, stop at expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from novacron.core.errors import Invalid, NotFound
from novacron.security.compliance import (
    Finding,
    InMemoryMuteStore,
    Status,
    apply_mutes,
    new_mute,
)

NOW = datetime(2025, 3, 14, 12, 0)


def finding(check: str, resource: str, status: Status = Status.FAIL) -> Finding:
    return Finding(check, status, resource, "evidence", NOW)


def test_new_mute_requires_reason_future_expiry_and_author() -> None:
    with pytest.raises(Invalid) as err:
        new_mute("NC-HST-002", "hv*", "   ", NOW - timedelta(days=1), "", now=NOW)
    fields = {e["loc"][-1] for e in err.value.errors}
    assert fields == {"reason", "expires_at", "created_by"}
    with pytest.raises(Invalid):
        new_mute("NC-HST-002", "hv*", "ok", NOW, "alice", now=NOW)  # expiring now is not future


def test_new_mute_checks_the_check_id_when_told_the_known_ones() -> None:
    with pytest.raises(Invalid, match="no compliance check NC-XYZ-001"):
        new_mute(
            "NC-XYZ-001",
            "*",
            "r",
            NOW + timedelta(days=1),
            "alice",
            now=NOW,
            known_checks={"NC-TLS-001"},
        )


def test_new_mute_stores_naive_utc() -> None:
    aware = datetime(2025, 4, 1, 14, 0, tzinfo=UTC).astimezone()
    mute = new_mute("NC-TLS-001", "platform", " lab only ", aware, "alice", now=NOW)
    assert mute.expires_at == datetime(2025, 4, 1, 14, 0)
    assert mute.reason == "lab only"
    assert mute.created_at == NOW


def test_matching_failures_become_muted_with_reason() -> None:
    mute = new_mute(
        "NC-HST-002", "lab-*", "lab hosts run a test DB", NOW + timedelta(days=30), "alice", now=NOW
    )
    findings = [
        finding("NC-HST-002", "lab-1"),
        finding("NC-HST-002", "prod-1"),
        finding("NC-HST-003", "lab-1"),  # other check
        finding("NC-HST-002", "lab-2", Status.PASS),  # nothing to mute
        finding("NC-HST-002", "lab-3", Status.ERROR),
    ]
    out = apply_mutes(findings, [mute], NOW)
    assert [f.status for f in out] == [
        Status.MUTED,
        Status.FAIL,
        Status.FAIL,
        Status.PASS,
        Status.MUTED,
    ]
    assert (
        out[0].mute_reason == "lab hosts run a test DB (muted by alice until 2025-04-13 12:00 UTC)"
    )
    assert out[0].muted_status is Status.FAIL and out[0].effective_status is Status.FAIL
    assert out[4].muted_status is Status.ERROR
    assert out[1].mute_reason is None


def test_expired_mutes_no_longer_apply() -> None:
    mute = new_mute("NC-TLS-001", "platform", "cutover", NOW + timedelta(hours=1), "bob", now=NOW)
    before = apply_mutes([finding("NC-TLS-001", "platform")], [mute], NOW + timedelta(minutes=59))
    after = apply_mutes([finding("NC-TLS-001", "platform")], [mute], NOW + timedelta(hours=1))
    assert before[0].status is Status.MUTED
    assert after[0].status is Status.FAIL


def test_the_soonest_expiring_mute_wins() -> None:
    later = new_mute("NC-IAM-001", "user:*", "all admins", NOW + timedelta(days=60), "a", now=NOW)
    sooner = new_mute(
        "NC-IAM-001", "user:breakglass", "sealed account", NOW + timedelta(days=7), "b", now=NOW
    )
    out = apply_mutes([finding("NC-IAM-001", "user:breakglass")], [later, sooner], NOW)
    assert out[0].mute_reason is not None and out[0].mute_reason.startswith("sealed account")


def test_resource_pattern_is_case_sensitive_glob() -> None:
    mute = new_mute("NC-HST-001", "hv[12]", "r", NOW + timedelta(days=1), "a", now=NOW)
    assert mute.matches(finding("NC-HST-001", "hv1"))
    assert not mute.matches(finding("NC-HST-001", "hv3"))
    assert not mute.matches(finding("NC-HST-001", "HV1"))


def test_in_memory_store() -> None:
    store = InMemoryMuteStore()
    live = new_mute("NC-HST-001", "*", "r", NOW + timedelta(days=2), "a", now=NOW)
    short = new_mute("NC-HST-002", "*", "r", NOW + timedelta(hours=1), "a", now=NOW)
    store.add(live)
    store.add(short)
    assert store.get(live.id) == live
    later = NOW + timedelta(hours=2)
    assert store.list(now=later) == [live]
    assert store.list(now=later, include_expired=True) == [live, short]
    store.delete(short.id)
    with pytest.raises(NotFound):
        store.get(short.id)
    with pytest.raises(NotFound):
        store.delete(short.id)
