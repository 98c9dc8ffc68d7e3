"""The PKI's tables and server-side use cases on a real, migrated database (SQLite, and
PostgreSQL when NOVACRON_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import select

from novacron.core.clock import utcnow
from novacron.core.config import Settings
from novacron.core.database import Database
from novacron.core.errors import Conflict, Forbidden, NotFound, NovaCronError, Unauthorized
from novacron.security.models import ApiToken
from novacron.security.pki import (
    CertificateAuthority,
    create_ca,
    make_csr,
    service,
    sign_agent_csr,
    store,
)
from novacron.security.pki.enrolment import EnrolmentToken, EnrolmentTokens, hash_secret
from novacron.security.tokens import authenticate, issue_token
from novacron.testing.databases import fresh_database

HOUR = datetime.timedelta(hours=1)


PG_URL = os.environ.get("NOVACRON_TEST_DATABASE_URL")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database for the module (migrating is the slow part); each test
    uses its own agent names."""
    tmp = tmp_path_factory.mktemp("pki-db")
    with fresh_database(str(request.param), tmp, PG_URL) as url:
        database = Database(url or f"sqlite:///{tmp / 'pki.db'}")
        database.upgrade()
        yield database
        database.dispose()


@pytest.fixture(scope="module")
def live_ca() -> CertificateAuthority:
    return create_ca()


def _token(token_id: str, *, expires_in: datetime.timedelta = HOUR) -> EnrolmentToken:
    now = utcnow()
    return EnrolmentToken(
        id=token_id,
        token_hash=hash_secret(f"secret-{token_id}"),
        created_at=now,
        expires_at=now + expires_in,
        for_name="a1",
        created_by="admin",
    )


def test_the_sql_store_claims_a_token_once(db: Database) -> None:
    with db.session() as s:
        sql = store.SqlEnrolmentTokenStore(s)
        sql.add(_token("enr-1"))
        sql.add(_token("enr-old", expires_in=-HOUR))
    now = utcnow()
    with db.session() as s:
        sql = store.SqlEnrolmentTokenStore(s)
        found = sql.find_by_hash(hash_secret("secret-enr-1"))
        assert found is not None and (found.id, found.created_by) == ("enr-1", "admin")
        assert sql.claim("enr-1", "a1", now) is True
        assert sql.claim("enr-1", "a1", now) is False
        assert sql.claim("enr-old", "a1", now) is False  # expired
        claimed = sql.get("enr-1")
        assert claimed is not None and (claimed.used_by, claimed.state(now)) == ("a1", "used")
    with db.session() as s:
        sql = store.SqlEnrolmentTokenStore(s)
        assert sql.revoke("enr-old", now) is True
        assert sql.revoke("enr-missing", now) is False
        mine = [t for t in sql.list() if t.id.startswith("enr-")]
        assert [(t.id, t.state(now)) for t in sorted(mine, key=lambda t: t.id)] == [
            ("enr-1", "used"),
            ("enr-old", "revoked"),
        ]


def test_racing_redeems_of_one_token_have_one_winner(db: Database) -> None:
    with db.session() as s:
        _, secret = EnrolmentTokens(store.SqlEnrolmentTokenStore(s)).issue(HOUR)
    results: list[str] = []
    barrier = threading.Barrier(6)

    def redeem(i: int) -> None:
        barrier.wait()
        try:
            with db.session() as s:
                EnrolmentTokens(store.SqlEnrolmentTokenStore(s)).redeem(secret, f"agent-{i}")
            results.append("won")
        except Unauthorized as exc:
            results.append(exc.detail)
        except Exception as exc:  # a database busy error would be a bug here too
            results.append(repr(exc))

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count("won") == 1, results
    assert all("already been used" in r for r in results if r != "won"), results


def _issue_token(db: Database, for_name: str | None) -> str:
    with db.session() as s:
        _, secret = service.issue_enrolment_token(s, HOUR, for_name, "admin")
    return secret


def test_enrolment_checks_the_csr_before_it_uses_the_token(
    db: Database, live_ca: CertificateAuthority
) -> None:
    secret = _issue_token(db, "e1")
    with pytest.raises(Forbidden), db.session() as s:
        service.enrol_agent(s, live_ca, secret, "e1", make_csr("e2").csr_pem)
    with pytest.raises(Unauthorized, match="is for agent 'e1'"), db.session() as s:
        service.enrol_agent(s, live_ca, secret, "e2", make_csr("e2").csr_pem)
    with db.session() as s:
        issued = service.enrol_agent(s, live_ca, secret, "e1", make_csr("e1").csr_pem)
    assert issued.registration_token is not None
    with pytest.raises(Unauthorized, match="already been used"), db.session() as s:
        service.enrol_agent(s, live_ca, secret, "e1", make_csr("e1").csr_pem)
    with db.read() as s:
        [row] = store.list_certificates(s, agent_name="e1")
        assert row.serial == store.serial_hex(issued.cert)
        assert row.not_after == issued.cert.not_valid_after_utc.replace(tzinfo=None)
        principal = authenticate(s, issued.registration_token, ("enrolment",))
        assert principal.name == "agent-enrol:e1"


def test_enrolling_again_replaces_the_registration_token(
    db: Database, live_ca: CertificateAuthority
) -> None:
    first = _enrol(db, live_ca, "r1")
    second = _enrol(db, live_ca, "r1")
    with db.read() as s:
        with pytest.raises(Unauthorized):
            authenticate(s, first.registration_token, ("enrolment",))
        authenticate(s, second.registration_token, ("enrolment",))


def _enrol(db: Database, ca: CertificateAuthority, name: str) -> service.Issued:
    secret = _issue_token(db, name)
    with db.session() as s:
        return service.enrol_agent(s, ca, secret, name, make_csr(name).csr_pem)


def test_verify_accepts_only_recorded_unrevoked_certificates(
    db: Database, live_ca: CertificateAuthority
) -> None:
    issued = _enrol(db, live_ca, "v1")
    with db.read() as s:
        assert service.verify_agent_cert(s, live_ca, issued.cert) == "v1"
    unrecorded = sign_agent_csr(live_ca, make_csr("v1").csr_pem, "v1")
    with db.read() as s, pytest.raises(Unauthorized, match="not one this server issued"):
        service.verify_agent_cert(s, live_ca, unrecorded)
    foreign = sign_agent_csr(create_ca(), make_csr("v1").csr_pem, "v1")
    with db.read() as s, pytest.raises(Unauthorized, match="not issued by this NovaCron CA"):
        service.verify_agent_cert(s, live_ca, foreign)
    with db.session() as s:
        service.revoke_certificate(s, store.serial_hex(issued.cert))
    with db.read() as s, pytest.raises(Unauthorized, match="has been revoked"):
        service.verify_agent_cert(s, live_ca, issued.cert)


def test_rotation_records_the_new_certificate_and_extends_registration(
    db: Database, live_ca: CertificateAuthority
) -> None:
    issued = _enrol(db, live_ca, "t1")
    request = make_csr("t1")
    with db.session() as s:
        rotated = service.rotate_agent(s, live_ca, issued.cert, request.csr_pem)
    assert rotated.name == "t1" and rotated.registration_token is None
    with pytest.raises(NovaCronError, match="new key"), db.session() as s:
        service.rotate_agent(s, live_ca, rotated.cert, request.csr_pem)
    with db.read() as s:
        serials = {r.serial for r in store.list_certificates(s, agent_name="t1")}
        assert serials == {store.serial_hex(issued.cert), store.serial_hex(rotated.cert)}
        row = s.scalar(select(ApiToken).where(ApiToken.name == "agent-enrol:t1"))
        assert row is not None
        assert row.expires_at == rotated.cert.not_valid_after_utc.replace(tzinfo=None)


def test_revoking_the_last_valid_certificate_revokes_the_agents_tokens(
    db: Database, live_ca: CertificateAuthority
) -> None:
    first = _enrol(db, live_ca, "k1")
    with db.session() as s:
        second = service.rotate_agent(s, live_ca, first.cert, make_csr("k1").csr_pem)
        _, agent_secret = issue_token(s, "agent:k1", "agent", "agent")
        _, other_secret = issue_token(s, "agent:k2", "agent", "agent")
    with db.session() as s:
        assert service.revoke_certificate(s, store.serial_hex(first.cert)).cut_off is False
    with db.read() as s:
        authenticate(s, agent_secret, ("agent",))  # still working: a valid cert is left
    with db.session() as s:
        # Pasted the way openssl prints it: upper case, colons, a leading zero.
        pasted = ":".join(f"{second.cert.serial_number:042X}"[i : i + 2] for i in range(0, 42, 2))
        revoked = service.revoke_certificate(s, pasted)
        assert revoked.cut_off is True
    with db.read() as s:
        for secret, kind in ((agent_secret, "agent"), (first.registration_token, "enrolment")):
            with pytest.raises(Unauthorized):
                authenticate(s, secret, (kind,))
        authenticate(s, other_secret, ("agent",))  # another agent is untouched
    with db.session() as s, pytest.raises(NotFound):
        service.revoke_certificate(s, "abc")


def test_enrolment_needs_tls_with_client_certificates(tmp_path: Path) -> None:
    assert service.client_cert_mode(Settings(data_dir=tmp_path, tls_client_certs="required")) == (
        "off"
    )
    with pytest.raises(Conflict, match="tls_client_certs"):
        service.require_mtls(Settings(data_dir=tmp_path, tls=True))
    service.require_mtls(Settings(data_dir=tmp_path, tls=True, tls_client_certs="optional"))
    with pytest.raises(NotFound, match="TLS is off"):
        service.server_ca(Settings(data_dir=tmp_path))
    made = service.server_ca(Settings(data_dir=tmp_path, tls=True))
    # Once it exists, a plain-HTTP server still serves it (tokens made before TLS is on).
    assert service.server_ca(Settings(data_dir=tmp_path)).fingerprint == made.fingerprint
    assert isinstance(made.cert, x509.Certificate)
