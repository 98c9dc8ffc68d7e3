"""Throwaway migration credentials (``compute/migration/tls.py``), without QEMU.

The certificates are checked as a TLS stack checks them: a real mutually authenticated
handshake with Python's ``ssl`` (OpenSSL) over a socket pair, which must succeed with
the issued credentials and fail for a client certificate of another CA or a server
name the certificate does not carry. QEMU's own checks (GnuTLS) run in
tests/hypervisor/qemu/test_qemu_migration_tls.py.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from novacron.compute.migration import tls
from novacron.core.errors import Invalid


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def ext(c: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:
    return c.extensions.get_extension_for_class(kind)


def test_client_request_is_a_fresh_ec_key_and_a_signed_csr_for_it() -> None:
    one, two = tls.client_request("vm-1"), tls.client_request("vm-1")
    assert one.key_pem != two.key_pem
    key = serialization.load_pem_private_key(one.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    csr = x509.load_pem_x509_csr(one.csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.public_key() == key.public_key()
    assert "PRIVATE" not in one.csr_pem


def test_issue_makes_a_ca_a_server_cert_for_the_listen_address_and_a_client_cert() -> None:
    request = tls.client_request("vm-1")
    now = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    issued = tls.issue(request.csr_pem, "127.0.0.1", now=now)
    ca, server, client = (
        cert(issued.ca_cert_pem),
        cert(issued.server_cert_pem),
        cert(issued.client_cert_pem),
    )

    # The CA: self-signed, may sign leaves only, what QEMU's tls-creds-x509 checks.
    assert ca.issuer == ca.subject
    ca.verify_directly_issued_by(ca)
    basic = ext(ca, x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    assert ext(ca, x509.KeyUsage).value.key_cert_sign

    for leaf, purpose in (
        (server, ExtendedKeyUsageOID.SERVER_AUTH),
        (client, ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        leaf.verify_directly_issued_by(ca)
        assert not ext(leaf, x509.BasicConstraints).value.ca
        usage = ext(leaf, x509.KeyUsage)
        assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
        assert list(ext(leaf, x509.ExtendedKeyUsage).value) == [purpose]
        # Valid from a little before "now" (clock skew between sites) for about a day.
        assert leaf.not_valid_before_utc == now - tls.CLOCK_SKEW
        assert leaf.not_valid_after_utc == now + tls.VALIDITY
        assert leaf.serial_number != ca.serial_number

    sans = ext(server, x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert sans.get_values_for_type(x509.DNSName) == []
    # The client certificate is for the source's key, which the destination never saw.
    assert client.public_key() == x509.load_pem_x509_csr(request.csr_pem.encode()).public_key()
    # Only the server's key is in the result; the CA's is gone.
    assert issued.server_key_pem.count(b"PRIVATE KEY-----") == 2
    for pem in (issued.ca_cert_pem, issued.server_cert_pem, issued.client_cert_pem):
        assert "PRIVATE" not in pem
    assert set(issued.server_files()) == {tls.CA_CERT, tls.SERVER_CERT, tls.SERVER_KEY}


def test_a_host_name_gets_a_dns_name_and_every_migration_a_new_ca() -> None:
    csr = tls.client_request("vm-1").csr_pem
    one, two = tls.issue(csr, "dest.example.org"), tls.issue(csr, "dest.example.org")
    sans = ext(cert(one.server_cert_pem), x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["dest.example.org"]
    assert cert(one.ca_cert_pem).public_key() != cert(two.ca_cert_pem).public_key()
    with pytest.raises(Exception):  # noqa: B017 - a signature of the other CA
        cert(one.client_cert_pem).verify_directly_issued_by(cert(two.ca_cert_pem))


def test_the_csr_gives_only_its_public_key() -> None:
    """A CSR asking to be a CA, for a server name, gets a plain client certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    greedy = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evil CA")]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("bank.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = greedy.public_bytes(serialization.Encoding.PEM).decode()
    client = cert(tls.issue(pem, "127.0.0.1").client_cert_pem)
    assert not ext(client, x509.BasicConstraints).value.ca
    assert "evil" not in client.subject.rfc4514_string()
    with pytest.raises(x509.ExtensionNotFound):
        ext(client, x509.SubjectAlternativeName)


def test_bad_csrs_are_invalid() -> None:
    with pytest.raises(Invalid, match="not a PEM certificate signing request"):
        tls.issue("hello", "127.0.0.1")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(rsa_key, hashes.SHA256())
    )
    with pytest.raises(Invalid, match="EC key"):
        tls.issue(rsa_csr.public_bytes(serialization.Encoding.PEM).decode(), "127.0.0.1")
    good = x509.load_pem_x509_csr(tls.client_request("x").csr_pem.encode())
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(Invalid, match="signature"):
        tls.issue(tampered.decode(), "127.0.0.1")
    with pytest.raises(Invalid, match="listen address"):
        tls.issue(tls.client_request("x").csr_pem, "")


def test_write_private_makes_owner_only_files_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "vm" / "migration-tls"
    old = os.umask(0)
    try:
        tls.write_private(target, {tls.CLIENT_KEY: b"key", tls.CA_CERT: "ca"})
        tls.write_private(target, {tls.CA_CERT: "ca, again"})  # replaced, still 0600
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert sorted(p.name for p in target.iterdir()) == [tls.CA_CERT, tls.CLIENT_KEY]
    for path in target.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert (target / tls.CA_CERT).read_text() == "ca, again"
    for bad in ("../x", "", ".."):
        with pytest.raises(ValueError):
            tls.write_private(target, {bad: b""})
    tls.remove(target)
    assert not target.exists()
    tls.remove(target)  # missing is fine


# -- a real TLS handshake with the issued credentials ----------------------------------


def _contexts(
    tmp_path: Path,
    issued: tls.Issued,
    client_key: bytes,
    client_cert: str,
    *,
    trusted_by_client: str | None = None,
) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    d = tmp_path / "creds"
    tls.write_private(
        d,
        {
            "server-cert.pem": issued.server_cert_pem,
            "server-key.pem": issued.server_key_pem,
            "ca.pem": issued.ca_cert_pem,
            "client-cert.pem": client_cert,
            "client-key.pem": client_key,
            "client-ca.pem": trusted_by_client or issued.ca_cert_pem,
        },
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(d / "server-cert.pem", d / "server-key.pem")
    server.load_verify_locations(d / "ca.pem")
    server.verify_mode = ssl.CERT_REQUIRED  # QEMU's verify-peer=true
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # checks the name and the chain
    client.load_cert_chain(d / "client-cert.pem", d / "client-key.pem")
    client.load_verify_locations(d / "client-ca.pem")
    return server, client


def _handshake(
    server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, server_name: str
) -> tuple[str | None, str | None]:
    """Both ends' errors (None: that end completed its handshake and exchanged data)."""
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    errors: dict[str, str | None] = {"server": None, "client": None}

    def serve() -> None:
        try:
            with server_ctx.wrap_socket(a, server_side=True) as conn:
                conn.sendall(conn.recv(5))
        except (OSError, ssl.SSLError) as exc:
            errors["server"] = str(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_ctx.wrap_socket(b, server_hostname=server_name) as conn:
            conn.sendall(b"hello")
            assert conn.recv(5) == b"hello"
    except (OSError, ssl.SSLError) as exc:
        errors["client"] = str(exc)
    finally:
        b.close()
        thread.join(10)
        a.close()
    return errors["server"], errors["client"]


def test_the_credentials_make_a_mutually_verified_tls_session(tmp_path: Path) -> None:
    request = tls.client_request("vm-1")
    issued = tls.issue(request.csr_pem, "127.0.0.1")
    server, client = _contexts(tmp_path, issued, request.key_pem, issued.client_cert_pem)
    assert _handshake(server, client, "127.0.0.1") == (None, None)


def test_a_client_certificate_of_another_ca_is_refused(tmp_path: Path) -> None:
    request = tls.client_request("vm-1")
    issued = tls.issue(request.csr_pem, "127.0.0.1")
    rogue = tls.issue(request.csr_pem, "127.0.0.1")  # same key, another CA
    server, client = _contexts(tmp_path, issued, request.key_pem, rogue.client_cert_pem)
    server_error, _ = _handshake(server, client, "127.0.0.1")
    assert server_error is not None and "certificate" in server_error.lower()


def test_the_source_refuses_a_server_of_another_name_or_ca(tmp_path: Path) -> None:
    request = tls.client_request("vm-1")
    issued = tls.issue(request.csr_pem, "127.0.0.1")
    server, client = _contexts(tmp_path / "a", issued, request.key_pem, issued.client_cert_pem)
    _, client_error = _handshake(server, client, "127.0.0.2")
    assert client_error is not None and "mismatch" in client_error.lower()
    other = tls.issue(request.csr_pem, "127.0.0.1")
    server, client = _contexts(
        tmp_path / "b",
        issued,
        request.key_pem,
        issued.client_cert_pem,
        trusted_by_client=other.ca_cert_pem,
    )
    _, client_error = _handshake(server, client, "127.0.0.1")
    assert client_error is not None and "certificate verify failed" in client_error
