"""NovaCron's own certificate authority: one per installation, kept in a directory.

    <dir>/ca.key   the CA's private key, 0600 (refused when others can read it)
    <dir>/ca.crt   the CA certificate: what agents and CLI users trust

The CA signs the server's TLS certificate and the agents' client certificates. It is
self-signed, EC P-256, valid ten years, with ``pathLen=0`` so it can sign leaves only:
a leaked leaf key can never mint further certificates. Each CA gets a random suffix in
its name, so two installations' CAs never share a subject (TLS stacks look issuers up
by name).

``ensure_ca`` is what a server start calls: load when present, create when absent, and
refuse (never overwrite) a half-present or expired CA: every agent certificate chains
to it, so replacing it silently would cut all agents off.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from novacron.core.errors import Invalid
from novacron.security.pki import _x509
from novacron.security.pki._x509 import PrivateKey

CA_CERT_FILE = "ca.crt"
CA_KEY_FILE = "ca.key"
CA_VALIDITY_DAYS = 3650
CA_ORGANIZATION = "NovaCron"


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> str:
        return _x509.cert_pem(self.cert)

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the CA certificate, for pinning it out of band."""
        return _x509.fingerprint(self.cert)


def create_ca(
    common_name: str = "NovaCron CA",
    *,
    days: int = CA_VALIDITY_DAYS,
    now: datetime.datetime | None = None,
) -> CertificateAuthority:
    """A new self-signed CA (in memory; ``save_ca`` writes it)."""
    start = _x509.utc(now)
    not_before, not_after = _x509.validity(start, days, issuer=None)
    key = _x509.new_key()
    subject = _x509.name(f"{common_name} {secrets.token_hex(4)}", CA_ORGANIZATION)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert=cert, key=key)


def save_ca(ca: CertificateAuthority, directory: Path) -> None:
    """Write ``ca.key`` (0600) then ``ca.crt``; the directory is created 0700."""
    _x509.write_file(directory / CA_KEY_FILE, _x509.key_pem(ca.key), private=True)
    _x509.write_file(directory / CA_CERT_FILE, ca.cert_pem, private=False)


def load_ca(directory: Path) -> CertificateAuthority:
    """Read the CA back; ``Invalid`` naming the file when anything is off."""
    cert_file, key_file = directory / CA_CERT_FILE, directory / CA_KEY_FILE
    cert = _x509.load_cert_file(cert_file, "CA certificate")
    key = _x509.load_key_file(key_file, "CA key")
    _x509.check_private_mode(key_file, "CA key")
    constraints = _basic_constraints(cert)
    if constraints is None or not constraints.ca:
        raise Invalid(f"CA certificate {cert_file}: not a CA certificate (basicConstraints)")
    if not _x509.key_matches(cert, key):
        raise Invalid(f"CA key {key_file}: does not belong to the certificate {cert_file}")
    return CertificateAuthority(cert=cert, key=key)


def ensure_ca(
    directory: Path,
    *,
    common_name: str = "NovaCron CA",
    days: int = CA_VALIDITY_DAYS,
    now: datetime.datetime | None = None,
) -> CertificateAuthority:
    """Load the CA in ``directory``, creating it on first use. Idempotent.

    Refuses, with ``Invalid``, a directory holding only one of the two files (a restore
    gone wrong: creating a new CA would orphan every agent) and an expired CA.
    """
    cert_file, key_file = directory / CA_CERT_FILE, directory / CA_KEY_FILE
    with _x509.directory_lock(directory):
        has_cert, has_key = cert_file.exists(), key_file.exists()
        if not has_cert and not has_key:
            ca = create_ca(common_name, days=days, now=now)
            save_ca(ca, directory)
            return ca
        if has_cert != has_key:
            present, missing = (cert_file, key_file) if has_cert else (key_file, cert_file)
            raise Invalid(
                f"CA directory {directory}: {present.name} exists but {missing.name} is "
                "missing; restore it, or move the directory aside to create a new CA "
                "(every agent must then enrol again)"
            )
        ca = load_ca(directory)
    if _x509.is_expired(ca.cert, _x509.utc(now)):
        raise Invalid(
            f"CA certificate {cert_file}: expired on {_x509.iso(ca.cert.not_valid_after_utc)}; "
            "move the directory aside to create a new CA (every agent must then enrol again)"
        )
    return ca


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None
