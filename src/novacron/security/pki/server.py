"""The server's TLS certificate: issued by our CA and kept fresh, or supplied by the user.

Issued (the default)::

    <dir>/server.key   0600
    <dir>/server.crt   serverAuth, SANs = the names and addresses clients connect to

``ensure_server_cert`` runs at every server start and reissues when the files are
missing or unreadable, when the certificate is not from the current CA, when its SAN
set differs from the names asked for (a new hostname or address), and when it expires
within the renewal window. It never reuses the old key: a reissue is a fresh key pair.

User-supplied (a certificate from the organisation's own PKI): ``load_server_cert_files``
checks the pair before uvicorn ever sees it (the key belongs to the certificate, it is
currently valid, it is meant for TLS servers, and it chains to a given CA if one is
named) and says which file is wrong instead of an OpenSSL error at bind time.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from novacron.core.errors import Invalid
from novacron.security.pki import _x509
from novacron.security.pki._x509 import PrivateKey
from novacron.security.pki.ca import CertificateAuthority

SERVER_CERT_FILE = "server.crt"
SERVER_KEY_FILE = "server.key"
SERVER_VALIDITY_DAYS = 365
SERVER_RENEW_BEFORE = datetime.timedelta(days=30)
SERVER_ORGANIZATION = "NovaCron server"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME_RE = re.compile(rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})*$")
_MAX_CHAIN_DEPTH = 5


@dataclass(frozen=True)
class IssuedCert:
    """A certificate and its private key, in memory."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> str:
        return _x509.cert_pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        return _x509.key_pem(self.key)


@dataclass(frozen=True)
class ServerCert:
    """Where the server's certificate and key are, for uvicorn's ``ssl_*`` options."""

    cert_file: Path
    key_file: Path
    cert: x509.Certificate
    issued: bool = False  # True when this call (re)issued the certificate
    reason: str = ""  # why it was (re)issued, for the start-up log

    @property
    def names(self) -> frozenset[str]:
        return server_cert_names(self.cert)


def split_names(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split mixed names into (hostnames, IP addresses), normalised and de-duplicated.

    ``Invalid`` names the first value that is neither a hostname nor an address.
    """
    hostnames: list[str] = []
    ips: list[str] = []
    for raw in names:
        value = raw.strip()
        if not value:
            continue
        try:
            ip = ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            hostname = _check_hostname(value)
            if hostname not in hostnames:
                hostnames.append(hostname)
        else:
            if str(ip) not in ips:
                ips.append(str(ip))
    return hostnames, ips


def default_server_names(listen_host: str = "127.0.0.1") -> list[str]:
    """The names a local client may use: loopback, this machine's name, the listen address."""
    names = ["localhost", "127.0.0.1", "::1"]
    hostname = socket.gethostname().lower()
    if hostname and _HOSTNAME_RE.match(hostname):
        names.append(hostname)
    if listen_host not in ("", "0.0.0.0", "::"):
        names.append(listen_host)
    hostnames, ips = split_names(names)
    return hostnames + ips


def issue_server_cert(
    ca: CertificateAuthority,
    hostnames: Sequence[str],
    ips: Sequence[str],
    days: int = SERVER_VALIDITY_DAYS,
    *,
    now: datetime.datetime | None = None,
) -> IssuedCert:
    """A new key and a serverAuth certificate for ``hostnames`` (DNS SANs) and ``ips``."""
    dns = [_check_hostname(h) for h in hostnames]
    addresses = [_check_ip(ip) for ip in ips]
    if not dns and not addresses:
        raise Invalid("a server certificate needs at least one hostname or IP address")
    start = _x509.utc(now)
    not_before, not_after = _x509.validity(start, days, ca.cert)
    key = _x509.new_key()
    sans: list[x509.GeneralName] = [x509.DNSName(h) for h in dns]
    sans += [x509.IPAddress(a) for a in addresses]
    first = dns[0] if dns else str(addresses[0])
    cert = (
        x509.CertificateBuilder()
        .subject_name(_x509.name(first, SERVER_ORGANIZATION))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_x509.leaf_key_usage(key.public_key()), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return IssuedCert(cert=cert, key=key)


def server_cert_names(cert: x509.Certificate) -> frozenset[str]:
    """The DNS names (lower case) and IP addresses (normalised) in ``cert``'s SANs."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset()
    names = {str(n).lower() for n in san.get_values_for_type(x509.DNSName)}
    names |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return frozenset(names)


def ensure_server_cert(
    directory: Path,
    ca: CertificateAuthority,
    names: Sequence[str],
    *,
    days: int = SERVER_VALIDITY_DAYS,
    renew_before: datetime.timedelta = SERVER_RENEW_BEFORE,
    now: datetime.datetime | None = None,
) -> ServerCert:
    """The server certificate in ``directory`` for ``names`` (hostnames and IPs mixed),
    (re)issued by ``ca`` when needed; ``reason`` on the result says why it was."""
    hostnames, ips = split_names(names)
    wanted = frozenset(hostnames) | frozenset(ips)
    cert_file, key_file = directory / SERVER_CERT_FILE, directory / SERVER_KEY_FILE
    at = _x509.utc(now)
    with _x509.directory_lock(directory):
        current, reason = _current_server_cert(cert_file, key_file, ca, wanted, at, renew_before)
        if current is not None:
            return ServerCert(cert_file=cert_file, key_file=key_file, cert=current)
        issued = issue_server_cert(ca, hostnames, ips, days, now=at)
        # Key first: a crash between the two writes leaves a pair that does not match,
        # which the next start sees and reissues.
        _x509.write_file(key_file, issued.key_pem, private=True)
        _x509.write_file(cert_file, issued.cert_pem, private=False)
    return ServerCert(
        cert_file=cert_file, key_file=key_file, cert=issued.cert, issued=True, reason=reason
    )


def load_server_cert_files(
    cert_file: Path,
    key_file: Path,
    *,
    ca_file: Path | None = None,
    now: datetime.datetime | None = None,
) -> ServerCert:
    """Validate a user-supplied certificate (PEM, leaf first, intermediates may follow)
    and key; ``Invalid`` names the file at fault."""
    at = _x509.utc(now)
    certs = _x509.load_certs_file(cert_file, "TLS certificate")
    leaf = certs[0]
    key = _x509.load_key_file(key_file, "TLS key")
    if not _x509.key_matches(leaf, key):
        raise Invalid(f"TLS key {key_file}: does not match the certificate in {cert_file}")
    if _x509.is_expired(leaf, at):
        raise Invalid(
            f"TLS certificate {cert_file}: expired on {_x509.iso(leaf.not_valid_after_utc)}"
        )
    if _x509.is_not_yet_valid(leaf, at):
        raise Invalid(
            f"TLS certificate {cert_file}: not valid before "
            f"{_x509.iso(leaf.not_valid_before_utc)} (check this machine's clock)"
        )
    if not _allows_server_auth(leaf):
        raise Invalid(
            f"TLS certificate {cert_file}: its extended key usage does not include "
            "TLS server authentication"
        )
    if ca_file is not None:
        anchors = _x509.load_certs_file(ca_file, "CA certificate")
        if not _chains_to(leaf, certs[1:], anchors, at):
            raise Invalid(
                f"TLS certificate {cert_file}: does not chain to the CA in {ca_file} "
                "(add any intermediate certificates after the server's own, in that file)"
            )
    return ServerCert(cert_file=cert_file, key_file=key_file, cert=leaf)


# -- helpers ------------------------------------------------------------------------------


def _current_server_cert(
    cert_file: Path,
    key_file: Path,
    ca: CertificateAuthority,
    wanted: frozenset[str],
    now: datetime.datetime,
    renew_before: datetime.timedelta,
) -> tuple[x509.Certificate | None, str]:
    """(the certificate on disk, "") when it can stay, else (None, why not)."""
    if not cert_file.exists() or not key_file.exists():
        return None, "no certificate yet"
    try:
        cert = _x509.load_cert_file(cert_file, "server certificate")
        key = _x509.load_key_file(key_file, "server key")
    except Invalid as exc:
        return None, f"unreadable: {exc.detail}"
    if not _x509.key_matches(cert, key):
        return None, "the key does not match the certificate"
    if not _x509.issued_by(cert, ca.cert):
        return None, "not issued by the current CA"
    have = server_cert_names(cert)
    if have != wanted:
        added = ", ".join(sorted(wanted - have)) or "none"
        removed = ", ".join(sorted(have - wanted)) or "none"
        return None, f"names changed (added: {added}; removed: {removed})"
    if _x509.is_not_yet_valid(cert, now):
        return None, f"not valid before {_x509.iso(cert.not_valid_before_utc)}"
    if cert.not_valid_after_utc - now <= renew_before:
        return None, f"expires on {_x509.iso(cert.not_valid_after_utc)}"
    return cert, ""


def _check_hostname(value: str) -> str:
    hostname = value.strip().lower().rstrip(".")
    if len(hostname) > 253 or not _HOSTNAME_RE.match(hostname):
        raise Invalid(f"{value!r} is not a valid hostname for a certificate")
    return hostname


def _check_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        raise Invalid(f"{value!r} is not a valid IP address") from None


def _allows_server_auth(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True  # no EKU means any purpose
    return (
        ExtendedKeyUsageOID.SERVER_AUTH in eku or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku
    )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _chains_to(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    now: datetime.datetime,
) -> bool:
    """Whether signatures lead from ``leaf`` through ``intermediates`` to an anchor.

    A sanity check of the operator's files, not a full RFC 5280 validation: the TLS
    clients do that. It catches the usual mistakes, a wrong CA file or a missing
    intermediate.
    """
    if leaf in anchors:
        return True  # a pinned self-signed certificate
    pool = list(intermediates)
    current = leaf
    for _ in range(_MAX_CHAIN_DEPTH):
        if any(_x509.issued_by(current, anchor) for anchor in anchors):
            return True
        parent = next(
            (
                c
                for c in pool
                if _is_ca(c) and not _x509.is_expired(c, now) and _x509.issued_by(current, c)
            ),
            None,
        )
        if parent is None:
            return False
        pool.remove(parent)
        current = parent
    return False
