"""Shared X.509 plumbing for the PKI modules: time, keys, names, PEM files (pure code).

Nothing here knows about CAs, servers or agents; those modules build on these helpers.
Every file error is an ``Invalid`` that names the file, because the usual reader of
the message is an operator looking at a path in their configuration.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from novacron.core.errors import Invalid

#: The key types we sign with and accept: what every TLS stack in use speaks.
PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

#: Leaves are valid from a few minutes in the past, so a peer whose clock runs a little
#: behind ours does not reject a certificate we just issued.
CLOCK_SKEW = datetime.timedelta(minutes=5)

_MIN_RSA_BITS = 2048


def utc(now: datetime.datetime | None = None) -> datetime.datetime:
    """An aware UTC datetime; naive values are UTC (the project stores naive UTC)."""
    if now is None:
        return datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.UTC)
    return now.astimezone(datetime.UTC)


def new_key() -> ec.EllipticCurvePrivateKey:
    """P-256: small, fast, and accepted by every TLS client we talk to."""
    return ec.generate_private_key(ec.SECP256R1())


def check_key(key: object, what: str) -> PrivateKey:
    """``key`` if it is a key type we sign with, else ``Invalid`` naming ``what``."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            raise Invalid(f"{what}: RSA key of {key.key_size} bits; at least 2048 are needed")
        return key
    raise Invalid(f"{what}: unsupported key type {type(key).__name__}; use EC or RSA")


def check_public_key(public: object, what: str) -> None:
    """Refuse public keys we would not issue a certificate for."""
    if isinstance(public, ec.EllipticCurvePublicKey):
        return
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < _MIN_RSA_BITS:
            raise Invalid(f"{what}: RSA key of {public.key_size} bits; at least 2048 are needed")
        return
    raise Invalid(f"{what}: unsupported key type; use EC (P-256) or RSA (2048+ bits)")


def name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            # X.520 caps a common name at 64 characters; SANs carry the real identity.
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def leaf_key_usage(public: object) -> x509.KeyUsage:
    # digitalSignature covers every ECDHE handshake; keyEncipherment only means
    # something for an RSA key (TLS 1.2's RSA key exchange), so EC keys go without it.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(public, rsa.RSAPublicKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def validity(
    start: datetime.datetime, days: int, issuer: x509.Certificate | None
) -> tuple[datetime.datetime, datetime.datetime]:
    """(not_before, not_after) for a certificate issued at ``start``.

    A leaf never outlives its issuer: clients would reject it from that day on anyway,
    and capping makes ``needs_rotation`` see the real end of life.
    """
    if days < 1:
        raise Invalid(f"validity must be at least one day, not {days}")
    not_before = start - CLOCK_SKEW
    not_after = start + datetime.timedelta(days=days)
    if issuer is not None:
        issuer_end = issuer.not_valid_after_utc
        if issuer_end <= start:
            raise Invalid(f"the CA certificate expired on {iso(issuer_end)}; create a new CA")
        not_after = min(not_after, issuer_end)
    return not_before, not_after


def iso(value: datetime.datetime) -> str:
    return utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def public_key_der(key: PrivateKey | x509.Certificate) -> bytes:
    public = key.public_key()
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    return public_key_der(cert) == public_key_der(key)


def fingerprint(cert: x509.Certificate) -> str:
    """``sha256:<hex>`` of the DER certificate: what an operator compares out of band."""
    return "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def is_expired(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return utc(now) >= cert.not_valid_after_utc


def is_not_yet_valid(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return utc(now) < cert.not_valid_before_utc


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s key signed ``cert`` (names alone prove nothing)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# -- files ---------------------------------------------------------------------------------


def read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise Invalid(f"{what} {path}: file not found") from None
    except IsADirectoryError:
        raise Invalid(f"{what} {path}: is a directory, not a file") from None
    except PermissionError:
        raise Invalid(f"{what} {path}: permission denied") from None


def load_certs_file(path: Path, what: str) -> list[x509.Certificate]:
    """Every certificate in a PEM file (a leaf may come with its intermediates)."""
    data = read_file(path, what)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise Invalid(f"{what} {path}: no PEM certificate in the file")
    return certs


def load_cert_file(path: Path, what: str) -> x509.Certificate:
    return load_certs_file(path, what)[0]


def load_key_file(path: Path, what: str) -> PrivateKey:
    data = read_file(path, what)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        # Raised for a key that needs a password: we have none to give at start-up.
        raise Invalid(f"{what} {path}: the key is encrypted; provide an unencrypted key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise Invalid(f"{what} {path}: not a PEM private key") from None
    return check_key(key, f"{what} {path}")


def check_private_mode(path: Path, what: str) -> None:
    """Refuse a key that others can read, like ssh does: a leaked CA key mints agents."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise Invalid(
            f"{what} {path}: readable by other users (mode {mode:04o}); run chmod 600 on it"
        )


def write_file(path: Path, data: bytes | str, *, private: bool) -> None:
    """Write ``path`` atomically; private files are 0600 from their first byte.

    The directory is created 0700 when missing. Public files (certificates) are 0644.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    mode = 0o600 if private else 0o644
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed (or, for 0644, kept) the mode
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Serialise the ``ensure_*`` calls on one directory across processes: two starts at
    once (replicas sharing a volume, a double ``novacron up``) must not each write half
    of a key pair."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
