"""One-time enrolment tokens: used once, expire, can be revoked, never echo the secret."""

from __future__ import annotations

import datetime
import threading

import pytest

from novacron.core.errors import Invalid, NotFound, NovaCronError, Unauthorized
from novacron.security.pki import EnrolmentTokens, InMemoryEnrolmentTokenStore
from novacron.security.pki.enrolment import hash_secret

T0 = datetime.datetime(2031, 3, 1, 12, 0)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def tokens() -> EnrolmentTokens:
    return EnrolmentTokens(InMemoryEnrolmentTokenStore(), clock=lambda: T0)


def _refused(tokens: EnrolmentTokens, secret: str, name: str, **kw: object) -> NovaCronError:
    with pytest.raises(Unauthorized) as info:
        tokens.redeem(secret, name, **kw)  # type: ignore[arg-type]
    if secret:
        assert secret not in info.value.detail
        assert secret not in str(info.value.problem())
    return info.value


def test_issue_stores_only_a_hash(tokens: EnrolmentTokens) -> None:
    token, secret = tokens.issue(HOUR)
    assert secret.startswith("nco_") and len(secret) > 40
    assert token.token_hash == hash_secret(secret)
    assert secret not in repr(tokens.store.list())
    assert token.expires_at == T0 + HOUR
    assert token.state(T0) == "valid"


def test_a_token_redeems_exactly_once(tokens: EnrolmentTokens) -> None:
    token, secret = tokens.issue(HOUR)
    used = tokens.redeem(secret, "agent-1", now=T0 + HOUR / 2)
    assert used.id == token.id
    assert used.used_by == "agent-1"
    assert used.used_at == T0 + HOUR / 2

    error = _refused(tokens, secret, "agent-1")
    assert error.detail == f"enrolment token {token.id} has already been used"


def test_an_expired_token_is_refused(tokens: EnrolmentTokens) -> None:
    token, secret = tokens.issue(HOUR)
    error = _refused(tokens, secret, "agent-1", now=T0 + HOUR)
    assert error.detail == f"enrolment token {token.id} expired at 2031-03-01T13:00:00Z"
    assert tokens.store.get(token.id).used_at is None  # type: ignore[union-attr]


def test_a_revoked_token_is_refused(tokens: EnrolmentTokens) -> None:
    token, secret = tokens.issue(HOUR)
    tokens.revoke(token.id)
    error = _refused(tokens, secret, "agent-1")
    assert error.detail == f"enrolment token {token.id} has been revoked"
    with pytest.raises(NotFound, match="no enrolment token enr-missing"):
        tokens.revoke("enr-missing")


def test_a_token_bound_to_a_name_refuses_others_without_being_used_up(
    tokens: EnrolmentTokens,
) -> None:
    token, secret = tokens.issue(HOUR, for_name="agent-7")
    error = _refused(tokens, secret, "agent-8")
    assert error.detail == f"enrolment token {token.id} is for agent 'agent-7', not 'agent-8'"
    assert tokens.redeem(secret, "agent-7").used_by == "agent-7"


def test_unknown_and_missing_tokens(tokens: EnrolmentTokens) -> None:
    tokens.issue(HOUR)
    assert _refused(tokens, "nco_guessed", "agent-1").detail == "unknown enrolment token"
    assert _refused(tokens, "", "agent-1").detail == "missing enrolment token"


@pytest.mark.parametrize(
    ("ttl", "for_name", "message"),
    [
        (datetime.timedelta(0), None, "must be positive"),
        (datetime.timedelta(days=31), None, "at most 30 days"),
        (HOUR, "no spaces please", "not a valid agent name"),
    ],
)
def test_issue_validates_its_input(
    tokens: EnrolmentTokens, ttl: datetime.timedelta, for_name: str | None, message: str
) -> None:
    with pytest.raises(Invalid, match=message):
        tokens.issue(ttl, for_name)
    assert tokens.list() == []


def test_concurrent_redeems_have_one_winner(tokens: EnrolmentTokens) -> None:
    _, secret = tokens.issue(HOUR)
    barrier = threading.Barrier(8)
    results: list[str] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            tokens.redeem(secret, f"agent-{i}")
            results.append("ok")
        except Unauthorized as exc:
            results.append(exc.detail)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1
    assert all(r == "ok" or r.endswith("has already been used") for r in results)


def test_store_claim_is_conditional() -> None:
    store = InMemoryEnrolmentTokenStore()
    tokens = EnrolmentTokens(store, clock=lambda: T0)
    token, _ = tokens.issue(HOUR)
    assert store.claim(token.id, "a", T0 + HOUR) is False  # expired at that instant
    assert store.claim(token.id, "a", T0) is True
    assert store.claim(token.id, "b", T0) is False
    assert store.get(token.id).used_by == "a"  # type: ignore[union-attr]
    assert store.claim("enr-none", "a", T0) is False


def test_aware_times_are_stored_as_naive_utc(tokens: EnrolmentTokens) -> None:
    aware = datetime.datetime(2031, 3, 1, 14, 0, tzinfo=datetime.timezone(HOUR * 2))
    token, _ = tokens.issue(HOUR, now=aware)
    assert token.created_at == T0
    assert token.created_at.tzinfo is None
