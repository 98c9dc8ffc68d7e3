"""Throwaway X.509 credentials for one TLS-encrypted live migration (pure code).

A migration with ``tls`` runs BOTH of its streams — QEMU's memory stream and the NBD
connection that mirrors the disk — over TLS with mutual certificate verification.
Every migration gets its own CA, which exists for that migration only.

Who generates what (the design, and why)::

    source agent   prepare_outgoing  → new client key (stays in the VM's dir) + a CSR
    server                           → passes the CSR to the destination (public data)
    destination    prepare_incoming  → new CA; server key + cert (SAN = listen address);
                                       signs the source's CSR; the CA's key is dropped
                                       right there, in memory, never written anywhere;
                                       returns the CA cert + the client cert
    server                           → passes both certs to the source
    source agent   migrate           → CA cert + client cert next to its key

**No private key crosses the wire**, neither the agent API nor the server's database
(operation parameters and results are stored): each key is generated where it is used
and written only there, 0600 in a 0700 directory of the VM. The CA key lives a few
milliseconds in the destination agent's memory and signs exactly two certificates — the
destination's own and the source's — so no third party can ever obtain a certificate
this CA trusts, and no ``tls-authz`` rule is needed to pin the client's identity.

The trust anchor is the server's authenticated agent API: the source trusts the CA cert
the server relays, and the destination signs the CSR the server relays. Someone who
controls the server can therefore man-in-the-middle a migration — but such a party
controls both hosts anyway. Simpler alternative considered: the server generates the
CA and both key pairs and sends each side its key. That needs no change to
``prepare_outgoing``, but puts private keys into request bodies (the agent API may be
plain HTTP between sites) and into the server's memory; one extra CSR round trip
avoids that.

Certificates: ECDSA P-256, valid from 10 minutes ago (clock skew between sites) for one
day (a migration is timed out long before). The extensions are those QEMU's
``tls-creds-x509`` checks when it loads credentials: CA with basic constraints
``CA:TRUE`` and key usage ``keyCertSign``; leaves ``CA:FALSE``, key usage digital
signature + key encipherment, and key purpose TLS server (destination) or TLS client
(source). Files use the names ``tls-creds-x509`` looks for in its ``dir``.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from novacron.core.errors import Invalid

#: File names QEMU's ``tls-creds-x509`` object reads from its ``dir``.
CA_CERT = "ca-cert.pem"
SERVER_CERT = "server-cert.pem"
SERVER_KEY = "server-key.pem"
CLIENT_CERT = "client-cert.pem"
CLIENT_KEY = "client-key.pem"

VALIDITY = datetime.timedelta(days=1)
CLOCK_SKEW = datetime.timedelta(minutes=10)
ORGANIZATION = "NovaCron live migration"


@dataclass(frozen=True)
class ClientRequest:
    """The source's half: its private key (kept on the source) and a CSR (sent)."""

    key_pem: bytes
    csr_pem: str


@dataclass(frozen=True)
class Issued:
    """The destination's half: what it keeps (``server_*``, ``ca_cert_pem``) and what
    goes back to the source (``ca_cert_pem``, ``client_cert_pem``: public data)."""

    ca_cert_pem: str
    server_cert_pem: str
    server_key_pem: bytes
    client_cert_pem: str

    def server_files(self) -> dict[str, bytes]:
        """The destination's credential directory."""
        return {
            CA_CERT: self.ca_cert_pem.encode(),
            SERVER_CERT: self.server_cert_pem.encode(),
            SERVER_KEY: self.server_key_pem,
        }


def client_request(label: str) -> ClientRequest:
    """A new key pair for the source and a CSR for its public key. ``label`` (e.g. the
    VM id) only names the certificate for logs."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(f"migration source {label}"))
        .sign(key, hashes.SHA256())
    )
    return ClientRequest(key_pem=_key_pem(key), csr_pem=_pem(csr))


def issue(
    csr_pem: str,
    server_name: str,
    *,
    now: datetime.datetime | None = None,
    validity: datetime.timedelta = VALIDITY,
) -> Issued:
    """A new CA, the destination's server certificate for ``server_name`` (an IP
    address or a DNS name: what the source connects to and verifies), and a client
    certificate for the public key in ``csr_pem``. The CA's key is discarded on return.

    Only the CSR's public key is used: its subject and any extensions it asks for are
    ignored, so a CSR cannot obtain a CA certificate or a server name."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except (ValueError, TypeError) as exc:
        raise _invalid(f"not a PEM certificate signing request: {exc}") from None
    if not csr.is_signature_valid:
        raise _invalid("the certificate signing request's signature does not verify")
    client_public = csr.public_key()
    if not isinstance(client_public, ec.EllipticCurvePublicKey):
        raise _invalid("the certificate signing request must carry an EC key")
    start = (now or datetime.datetime.now(datetime.UTC)) - CLOCK_SKEW
    end = start + CLOCK_SKEW + validity

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"throwaway CA {secrets.token_hex(4)}")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)

    def leaf(
        subject: str, public: ec.EllipticCurvePublicKey, server: bool
    ) -> x509.CertificateBuilder:
        purpose = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        return (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(ca_name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(aki, critical=False)
        )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        leaf(f"migration destination {server_name}", server_key.public_key(), server=True)
        .add_extension(x509.SubjectAlternativeName([_san(server_name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    client_cert = leaf("migration source", client_public, server=False).sign(
        ca_key, hashes.SHA256()
    )
    del ca_key  # never serialised: after this, nobody can mint a certificate of this CA
    return Issued(
        ca_cert_pem=_pem(ca_cert),
        server_cert_pem=_pem(server_cert),
        server_key_pem=_key_pem(server_key),
        client_cert_pem=_pem(client_cert),
    )


def write_private(directory: Path, files: Mapping[str, bytes | str]) -> None:
    """Write ``files`` into ``directory`` (created 0700), each 0600 from its first byte
    (created with that mode, never widened): QEMU, running as the same user, reads them;
    nobody else can. Existing files are replaced."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask; exist_ok keeps any
    for name, content in files.items():
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"bad credential file name {name!r}")
        data = content.encode() if isinstance(content, str) else content
        path = directory / name
        tmp = directory / f".{name}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
        finally:
            os.close(fd)
        tmp.replace(path)


def remove(directory: Path) -> None:
    """Delete a credential directory and everything in it; missing is fine."""
    shutil.rmtree(directory, ignore_errors=True)


def is_server_name_ip(server_name: str) -> bool:
    try:
        ipaddress.ip_address(server_name)
    except ValueError:
        return False
    return True


# -- helpers ------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def _san(server_name: str) -> x509.GeneralName:
    if not server_name:
        raise _invalid("the destination's listen address is empty")
    if is_server_name_ip(server_name):
        return x509.IPAddress(ipaddress.ip_address(server_name))
    return x509.DNSName(server_name)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(obj: x509.Certificate | x509.CertificateSigningRequest) -> str:
    return obj.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _invalid(msg: str) -> Invalid:
    return Invalid(f"migration TLS: {msg}", errors=[{"loc": ["options", "tls_csr"], "msg": msg}])
