"""TOTP second factor (RFC 6238, via pyotp) and one-time recovery codes.

Enrolment is two steps: ``begin`` stores a fresh secret, sealed (``totp_seeds``) and not
yet enforced, and returns the ``otpauth://`` URI for an authenticator app; ``confirm``
enables it once the user proves a code, and hands out recovery codes (shown once, stored
as hashes). A code is accepted once: the accepted time step is remembered, so a code seen
over a shoulder cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.errors import Conflict, Invalid
from novacron.core.ids import new_id
from novacron.security.models import RecoveryCode, User
from novacron.security.secrets.errors import SecretCorrupt

log = logging.getLogger(__name__)

SEALED_PREFIX = "nsec$"

ISSUER = "NovaCron"
STEP_S = 30
RECOVERY_CODES = 10


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


class SeedCipher(Protocol):
    """Seals seeds for storage and opens them again (``totp_seeds.SeedCipher``)."""

    def seal(self, seed: str, user_id: str) -> str: ...

    def open(self, stored: str, user_id: str) -> str: ...


@dataclass(frozen=True)
class Enrolment:
    secret: str
    """The seed in base32, for typing into an app by hand (shown once)."""
    uri: str
    """``otpauth://`` provisioning URI (the QR code)."""


def begin(user: User, cipher: SeedCipher) -> Enrolment:
    """Store a new, not yet enabled secret (sealed); the seed and provisioning URI."""
    if user.totp_enabled_at is not None:
        raise Conflict("two-factor authentication is already on; turn it off first")
    seed = pyotp.random_base32(32)
    user.totp_secret = cipher.seal(seed, user.id)
    uri = pyotp.TOTP(seed).provisioning_uri(name=user.name, issuer_name=ISSUER)
    return Enrolment(secret=seed, uri=uri)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (±1 for clock drift) whose code is ``code``."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    t = time.time() if now is None else now
    step = int(t // STEP_S)
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.at(candidate * STEP_S), code):
            return candidate
    return None


def confirm(
    session: Session, user: User, code: str, cipher: SeedCipher, now: float | None = None
) -> list[str]:
    """Enable TOTP after a correct code; returns fresh recovery codes (the only copy)."""
    if user.totp_secret is None or user.totp_enabled_at is not None:
        raise Conflict("start two-factor set-up first")
    seed = _seed(user, cipher)
    step = _matching_step(seed, code, now) if seed is not None else None
    if step is None:
        raise Invalid(
            "code: wrong code; check the authenticator app's clock",
            errors=[{"loc": ["body", "code"], "msg": "wrong code"}],
        )
    user.totp_enabled_at, user.totp_last_step = utcnow(), step
    return new_recovery_codes(session, user)


def new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(id=new_id("rc"), user_id=user.id, code_hash=_hash_code(code)))
    session.flush()
    return codes


def disable(session: Session, user: User) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _seed(user: User, cipher: SeedCipher) -> str | None:
    """The user's seed in plaintext; None when it cannot be opened (its master key is
    not in this server's keyring: logged, and recovery codes still work). A seed an
    earlier version stored in plaintext is sealed on first use."""
    stored = user.totp_secret
    if stored is None:
        return None
    if not stored.startswith(SEALED_PREFIX):
        user.totp_secret = cipher.seal(stored, user.id)
        return stored
    try:
        return cipher.open(stored, user.id)
    except SecretCorrupt as exc:
        log.error("the TOTP seed of user %s cannot be opened: %s", user.id, exc.detail)
        return None


def verify_second_factor(
    session: Session, user: User, code: str, cipher: SeedCipher, now: float | None = None
) -> str | None:
    """``"totp"`` or ``"recovery"`` when ``code`` is good (and now used up), else None."""
    if user.totp_secret is None or user.totp_enabled_at is None:
        return None
    seed = _seed(user, cipher)
    step = _matching_step(seed, code, now) if seed is not None else None
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None  # replay of an accepted code
        user.totp_last_step = step
        return "totp"
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return None
    row.used_at = utcnow()
    return "recovery"


def remaining_recovery_codes(session: Session, user_id: str) -> int:
    rows = session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    return len(rows)
