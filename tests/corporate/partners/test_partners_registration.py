"""Deal-registration rules (pure): normalisation, duplicates, conflicts, first approved
wins, the status machine and expiry."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.core.errors import InvalidState
from novacron.corporate.partners import registration as rules
from novacron.corporate.partners.registration import OpenRegistration


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("  acme   incorporated ", "acme"),
        ("Acme Corp.", "acme"),
        ("Müller GmbH", "muller"),
        ("Siemens AG", "siemens"),
        ("Société Générale S.A.", "societe generale"),
        ("The Acme Company Ltd.", "the acme"),
        ("AT&T", "at and t"),
        ("Inc", "inc"),
        ("Globex Pty Ltd", "globex"),
    ],
)
def test_normalise_customer(name: str, key: str) -> None:
    assert rules.normalise_customer(name) == key


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_normalisation_is_idempotent(name: str) -> None:
    once = rules.normalise_customer(name)
    assert rules.normalise_customer(once) == once


def test_product_normalisation() -> None:
    assert rules.normalise_product("  NovaCron   Enterprise ") == "novacron enterprise"


def reg(id_: str, partner: str, status: str = "pending", customer: str = "acme",
        product: str = "nova") -> OpenRegistration:  # fmt: skip
    return OpenRegistration(id_, partner, customer, product, status)


def test_screen_duplicate_and_conflicts() -> None:
    existing = [
        reg("r1", "p1"),
        reg("r2", "p2", "approved"),
        reg("r3", "p3", "rejected"),  # closed: ignored
        reg("r4", "p4", customer="globex"),  # another customer
        reg("r5", "p5", product="other"),  # another product
    ]
    same_partner = rules.screen("p1", "acme", "nova", existing)
    assert same_partner.duplicate_of == "r1"
    other = rules.screen("p9", "acme", "nova", existing)
    assert other.duplicate_of is None
    assert other.conflicts_with == ["r1", "r2"]
    assert rules.screen("p9", "initech", "nova", existing).conflicts_with == []


def test_closed_registration_of_same_partner_is_no_duplicate() -> None:
    assert rules.screen("p1", "acme", "nova", [reg("r1", "p1", "lost")]).duplicate_of is None


def test_first_approved_wins_rejects_pending_rivals() -> None:
    me = reg("r1", "p1")
    rivals = [me, reg("r2", "p2"), reg("r3", "p3", "expired"), reg("r4", "p1")]
    assert rules.approval(me, rivals).reject == ["r2"]


def test_approval_refused_when_a_rival_was_approved_first() -> None:
    with pytest.raises(InvalidState, match=r"r2 of another partner .* approved first"):
        rules.approval(reg("r1", "p1"), [reg("r2", "p2", "approved")])


@pytest.mark.parametrize(
    ("status", "action", "result"),
    [
        ("pending", "approve", "approved"),
        ("approved", "won", "won"),
        ("pending", "lost", "lost"),
        ("approved", "extend", "approved"),
        ("approved", "expire", "expired"),
    ],
)
def test_legal_transitions(status: str, action: str, result: str) -> None:
    assert rules.next_status(status, action) == result


@pytest.mark.parametrize(
    ("status", "action"),
    [("pending", "won"), ("rejected", "approve"), ("expired", "extend"), ("won", "lost")],
)
def test_illegal_transitions_name_the_current_status(status: str, action: str) -> None:
    with pytest.raises(InvalidState) as err:
        rules.next_status(status, action, "dreg-1")
    assert f"it is {status}" in err.value.detail
    assert err.value.errors == [{"loc": ["status"], "msg": f"current state: {status}"}]


def test_expiry_is_inclusive_and_only_for_open() -> None:
    at = datetime(2026, 3, 1, 12)
    assert rules.is_expired("pending", at, at)
    assert not rules.is_expired("pending", at, datetime(2026, 3, 1, 11, 59))
    assert not rules.is_expired("won", at, datetime(2027, 1, 1))
