"""The PKI's tables behind small functions: enrolment tokens (the ``EnrolmentTokenStore``
protocol in SQL) and the register of issued agent certificates.

Everything works inside the caller's session and transaction, so an enrolment claims
its token, records the certificate and issues the agent's registration token in one
commit, or not at all.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from novacron.core.errors import NotFound
from novacron.security.pki.enrolment import EnrolmentToken
from novacron.security.pki.models import AgentCertificate, AgentEnrolmentToken

_TOKEN_FIELDS = (
    "id",
    "token_hash",
    "created_at",
    "expires_at",
    "for_name",
    "used_at",
    "used_by",
    "revoked_at",
    "created_by",
)


def _token(row: AgentEnrolmentToken) -> EnrolmentToken:
    return EnrolmentToken(**{f: getattr(row, f) for f in _TOKEN_FIELDS})


class SqlEnrolmentTokenStore:
    """``EnrolmentTokenStore`` over ``agent_enrolment_tokens`` in ``session``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: EnrolmentToken) -> None:
        self.session.add(AgentEnrolmentToken(**{f: getattr(token, f) for f in _TOKEN_FIELDS}))
        self.session.flush()

    def get(self, token_id: str) -> EnrolmentToken | None:
        row = self._fresh(AgentEnrolmentToken.id == token_id)
        return None if row is None else _token(row)

    def find_by_hash(self, token_hash: str) -> EnrolmentToken | None:
        row = self._fresh(AgentEnrolmentToken.token_hash == token_hash)
        return None if row is None else _token(row)

    def claim(self, token_id: str, agent_name: str, now: datetime.datetime) -> bool:
        # One conditional UPDATE: on PostgreSQL a second claimant waits for the first's
        # row lock, re-checks the WHERE and updates nothing; SQLite serialises writers.
        result = self.session.execute(
            update(AgentEnrolmentToken)
            .where(
                AgentEnrolmentToken.id == token_id,
                AgentEnrolmentToken.used_at.is_(None),
                AgentEnrolmentToken.revoked_at.is_(None),
                AgentEnrolmentToken.expires_at > now,
            )
            .values(used_at=now, used_by=agent_name)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def revoke(self, token_id: str, now: datetime.datetime) -> bool:
        if self._fresh(AgentEnrolmentToken.id == token_id) is None:
            return False
        self.session.execute(
            update(AgentEnrolmentToken)
            .where(AgentEnrolmentToken.id == token_id, AgentEnrolmentToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return True

    def list(self) -> list[EnrolmentToken]:
        rows = self.session.scalars(
            select(AgentEnrolmentToken)
            .order_by(AgentEnrolmentToken.created_at, AgentEnrolmentToken.id)
            .execution_options(populate_existing=True)
        )
        return [_token(r) for r in rows]

    def _fresh(self, where: Any) -> AgentEnrolmentToken | None:
        # populate_existing: the conditional UPDATEs above bypass the identity map.
        return self.session.scalar(
            select(AgentEnrolmentToken).where(where).execution_options(populate_existing=True)
        )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# -- issued certificates ------------------------------------------------------------------


def serial_hex(serial: int | x509.Certificate) -> str:
    """A serial as the tables, the API and the CLI show it: lower-case hex."""
    number = serial.serial_number if isinstance(serial, x509.Certificate) else serial
    return f"{number:x}"


def normalise_serial(value: str) -> str:
    """Accept what operators paste: ``0x``, colons, upper case, leading zeros."""
    text = value.strip().lower().removeprefix("0x").replace(":", "").lstrip("0")
    return text or "0"


def naive_utc(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(datetime.UTC).replace(tzinfo=None)


def record_certificate(
    session: Session, cert: x509.Certificate, agent_name: str, issued_at: datetime.datetime
) -> AgentCertificate:
    row = AgentCertificate(
        serial=serial_hex(cert),
        agent_name=agent_name,
        not_after=naive_utc(cert.not_valid_after_utc),
        issued_at=naive_utc(issued_at),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return row


def find_certificate(session: Session, serial: str) -> AgentCertificate | None:
    return session.get(AgentCertificate, normalise_serial(serial))


def get_certificate(session: Session, serial: str) -> AgentCertificate:
    row = find_certificate(session, serial)
    if row is None:
        raise NotFound(f"no agent certificate with serial {normalise_serial(serial)}")
    return row


def list_certificates(
    session: Session,
    *,
    agent_name: str | None = None,
    active_at: datetime.datetime | None = None,
) -> list[AgentCertificate]:
    """Newest first; with ``active_at`` only those neither revoked nor expired then."""
    stmt = select(AgentCertificate).order_by(
        AgentCertificate.issued_at.desc(), AgentCertificate.serial
    )
    if agent_name is not None:
        stmt = stmt.where(AgentCertificate.agent_name == agent_name)
    if active_at is not None:
        stmt = stmt.where(
            AgentCertificate.revoked_at.is_(None), AgentCertificate.not_after > active_at
        )
    return list(session.scalars(stmt))


def certificate_state(row: AgentCertificate, now: datetime.datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.not_after <= now:
        return "expired"
    return "valid"
