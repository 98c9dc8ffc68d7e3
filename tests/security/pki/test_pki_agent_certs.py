"""Agent CSRs and certificates: what gets signed, who it names, when it is refused."""

from __future__ import annotations

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from novacron.core.errors import Forbidden, Invalid, Unauthorized
from novacron.security.pki import (
    CertificateAuthority,
    agent_uri,
    check_not_revoked,
    identity_from_client_cert,
    issue_server_cert,
    make_csr,
    needs_rotation,
    sign_agent_csr,
    sign_rotation_csr,
)
from novacron.security.pki._x509 import issued_by, key_matches

DAY = datetime.timedelta(days=1)


def _csr(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    cn: str,
    sans: list[x509.GeneralName] | None = None,
    ca: bool = False,
) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_make_csr_names_the_agent_and_proves_the_key() -> None:
    request = make_csr("agent-1")
    csr = x509.load_pem_x509_csr(request.csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "agent-1"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:novacron:agent:agent-1"]
    assert csr.public_key() == request.key.public_key()
    assert request.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_sign_agent_csr_issues_a_client_certificate(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    request = make_csr("agent-1")
    cert = sign_agent_csr(ca, request.csr_pem, "agent-1", now=now)

    assert issued_by(cert, ca.cert)
    assert key_matches(cert, request.key)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(san) == [x509.UniformResourceIdentifier("urn:novacron:agent:agent-1")]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "agent-1"
    assert cert.not_valid_after_utc == now + 90 * DAY
    assert cert.not_valid_before_utc == now - datetime.timedelta(minutes=5)  # clock skew


def test_sign_agent_csr_refuses_a_csr_for_another_name(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    request = make_csr("agent-2")
    with pytest.raises(Forbidden) as info:
        sign_agent_csr(ca, request.csr_pem, "agent-1", now=now)
    assert info.value.detail == (
        "the certificate request asks for agent-2; this enrolment is for agent 'agent-1'"
    )


def test_sign_agent_csr_refuses_extra_names(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = _csr(
        key,
        "agent-1",
        [x509.UniformResourceIdentifier(agent_uri("agent-1")), x509.DNSName("api.example.org")],
    )
    with pytest.raises(Forbidden, match=r"api\.example\.org"):
        sign_agent_csr(ca, pem, "agent-1", now=now)


def test_sign_agent_csr_ignores_requested_extensions(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    # A CSR asking to be a CA gets a plain client certificate: only the key is taken.
    key = ec.generate_private_key(ec.SECP256R1())
    cert = sign_agent_csr(ca, _csr(key, "agent-1", ca=True), "agent-1", now=now)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_sign_agent_csr_refuses_a_forged_signature(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    der = bytearray(
        x509.load_pem_x509_csr(make_csr("agent-1").csr_pem.encode()).public_bytes(
            serialization.Encoding.DER
        )
    )
    der[-1] ^= 0x01  # the last byte belongs to the signature
    pem = (
        "-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(bytes(der)).decode()
        + "-----END CERTIFICATE REQUEST-----\n"
    )
    with pytest.raises(Invalid, match="signature does not verify"):
        sign_agent_csr(ca, pem, "agent-1", now=now)


@pytest.mark.parametrize(
    ("csr_pem", "agent_name", "message"),
    [
        ("not a csr", "agent-1", "not a PEM certificate signing request"),
        (None, "bad name!", "not a valid agent name"),
        (None, "-agent", "not a valid agent name"),
    ],
)
def test_sign_agent_csr_refuses_bad_input(
    ca: CertificateAuthority,
    now: datetime.datetime,
    csr_pem: str | None,
    agent_name: str,
    message: str,
) -> None:
    with pytest.raises(Invalid, match=message):
        sign_agent_csr(ca, csr_pem or make_csr("agent-1").csr_pem, agent_name, now=now)


def test_sign_agent_csr_takes_rsa_but_not_weak_rsa(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    strong = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sans = [x509.UniformResourceIdentifier(agent_uri("rsa-agent"))]
    cert = sign_agent_csr(ca, _csr(strong, "rsa-agent", sans), "rsa-agent", now=now)
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(Invalid, match="at least 2048"):
        sign_agent_csr(ca, _csr(weak, "rsa-agent", sans), "rsa-agent", now=now)


def test_identity_from_client_cert_returns_the_agent_name(
    ca: CertificateAuthority, now: datetime.datetime, issue_agent
) -> None:
    _, cert = issue_agent("agent-1")
    assert identity_from_client_cert(cert, ca, now=now) == "agent-1"
    assert identity_from_client_cert(cert, ca.cert, now=now + 89 * DAY) == "agent-1"


def test_identity_refuses_a_certificate_from_another_ca(
    ca: CertificateAuthority, other_ca: CertificateAuthority, now: datetime.datetime, issue_agent
) -> None:
    _, cert = issue_agent("agent-1", by=other_ca)
    with pytest.raises(Unauthorized, match="not issued by this NovaCron CA"):
        identity_from_client_cert(cert, ca, now=now)


def test_identity_refuses_an_expired_or_future_certificate(
    ca: CertificateAuthority, now: datetime.datetime, issue_agent
) -> None:
    _, cert = issue_agent("agent-1", days=10)
    with pytest.raises(Unauthorized, match="expired on 2031-03-11T12:00:00Z"):
        identity_from_client_cert(cert, ca, now=now + 10 * DAY)
    with pytest.raises(Unauthorized, match="not valid before"):
        identity_from_client_cert(cert, ca, now=now - DAY)


def test_identity_refuses_a_revoked_certificate(
    ca: CertificateAuthority, now: datetime.datetime, issue_agent
) -> None:
    _, cert = issue_agent("agent-1")
    _, other = issue_agent("agent-2")
    revoked = {cert.serial_number}
    with pytest.raises(Unauthorized, match="has been revoked"):
        identity_from_client_cert(cert, ca, now=now, revoked=revoked)
    assert identity_from_client_cert(other, ca, now=now, revoked=revoked) == "agent-2"
    check_not_revoked(other, revoked)  # no error


def test_identity_refuses_server_and_ca_certificates(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    server = issue_server_cert(ca, ["localhost"], [], now=now).cert
    with pytest.raises(Unauthorized, match="not a client certificate"):
        identity_from_client_cert(server, ca, now=now)
    with pytest.raises(Unauthorized, match="not a client certificate"):
        identity_from_client_cert(ca.cert, ca, now=now)


def test_needs_rotation_inside_the_window(issue_agent, now: datetime.datetime) -> None:
    _, cert = issue_agent("agent-1", days=90)
    window = datetime.timedelta(days=30)
    assert needs_rotation(cert, now + 59 * DAY, window) is False
    assert needs_rotation(cert, now + 60 * DAY, window) is True
    assert needs_rotation(cert, now + 120 * DAY, window) is True  # already expired


def test_rotation_signs_a_new_key_for_the_presenting_agent(
    ca: CertificateAuthority, now: datetime.datetime, issue_agent
) -> None:
    _, current = issue_agent("agent-1")
    later = now + 70 * DAY
    fresh = make_csr("agent-1")
    cert = sign_rotation_csr(ca, fresh.csr_pem, current, now=later)
    assert identity_from_client_cert(cert, ca, now=later) == "agent-1"
    assert key_matches(cert, fresh.key)
    assert cert.serial_number != current.serial_number
    assert cert.not_valid_after_utc == later + 90 * DAY


def test_rotation_refuses_expired_revoked_or_mismatched_requests(
    ca: CertificateAuthority, now: datetime.datetime, issue_agent
) -> None:
    request, current = issue_agent("agent-1", days=10)
    with pytest.raises(Unauthorized, match="expired"):
        sign_rotation_csr(ca, make_csr("agent-1").csr_pem, current, now=now + 11 * DAY)
    with pytest.raises(Unauthorized, match="revoked"):
        sign_rotation_csr(
            ca, make_csr("agent-1").csr_pem, current, now=now, revoked={current.serial_number}
        )
    with pytest.raises(Forbidden, match="this enrolment is for agent 'agent-1'"):
        sign_rotation_csr(ca, make_csr("agent-2").csr_pem, current, now=now)
    same_key = _csr(request.key, "agent-1", [x509.UniformResourceIdentifier(agent_uri("agent-1"))])
    with pytest.raises(Invalid, match="needs a new key"):
        sign_rotation_csr(ca, same_key, current, now=now)
