"""Server certificates: SANs, reissue when needed (and only then), user-supplied files."""

from __future__ import annotations

import datetime
import ipaddress
import re
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from novacron.core.errors import Invalid
from novacron.security.pki import (
    CertificateAuthority,
    cert_pem,
    create_ca,
    ensure_server_cert,
    issue_server_cert,
    key_pem,
    load_server_cert_files,
)
from novacron.security.pki._x509 import issued_by, key_matches
from novacron.security.pki.server import default_server_names, server_cert_names, split_names

NAMES = ["localhost", "nova.example.org", "127.0.0.1", "::1"]
DAY = datetime.timedelta(days=1)


def test_issue_server_cert_has_dns_and_ip_sans_and_server_auth(
    ca: CertificateAuthority, now: datetime.datetime
) -> None:
    issued = issue_server_cert(ca, ["Nova.Example.org", "localhost"], ["10.0.0.7", "::1"], now=now)
    cert = issued.cert

    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["nova.example.org", "localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.7"),
        ipaddress.ip_address("::1"),
    ]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "nova.example.org"
    assert issued_by(cert, ca.cert)
    assert key_matches(cert, issued.key)
    assert cert.not_valid_after_utc == now + datetime.timedelta(days=365)


def test_issue_server_cert_never_outlives_its_ca(now: datetime.datetime) -> None:
    short_ca = create_ca(days=10, now=now)
    cert = issue_server_cert(short_ca, ["localhost"], [], days=365, now=now).cert
    assert cert.not_valid_after_utc == short_ca.cert.not_valid_after_utc


@pytest.mark.parametrize(
    ("hostnames", "ips", "message"),
    [
        (["bad host"], [], "not a valid hostname"),
        (["-leading.example"], [], "not a valid hostname"),
        ([], ["300.1.1.1"], "not a valid IP address"),
        ([], [], "at least one hostname or IP address"),
    ],
)
def test_issue_server_cert_refuses_bad_names(
    ca: CertificateAuthority,
    now: datetime.datetime,
    hostnames: list[str],
    ips: list[str],
    message: str,
) -> None:
    with pytest.raises(Invalid, match=message):
        issue_server_cert(ca, hostnames, ips, now=now)


def test_split_names_normalises_and_deduplicates() -> None:
    hostnames, ips = split_names(["LocalHost", "localhost.", " 127.0.0.1 ", "[::1]", "", "::1"])
    assert hostnames == ["localhost"]
    assert ips == ["127.0.0.1", "::1"]


def test_default_server_names_cover_loopback_and_the_listen_address() -> None:
    names = default_server_names("192.0.2.10")
    assert {"localhost", "127.0.0.1", "::1", "192.0.2.10"} <= set(names)
    assert "0.0.0.0" not in default_server_names("0.0.0.0")


def test_ensure_server_cert_issues_once_then_keeps_it(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    first = ensure_server_cert(tmp_path, ca, NAMES, now=now)
    assert first.issued is True
    assert first.reason == "no certificate yet"
    assert stat.S_IMODE(first.key_file.stat().st_mode) == 0o600
    assert first.names == {"localhost", "nova.example.org", "127.0.0.1", "::1"}

    # Same names in another order, case and spelling: no reissue.
    again = ensure_server_cert(
        tmp_path, ca, ["::1", "NOVA.example.org.", "127.0.0.1", "localhost"], now=now + DAY
    )
    assert again.issued is False
    assert again.cert.serial_number == first.cert.serial_number
    assert again.cert_file.read_text() == cert_pem(first.cert)


def test_ensure_server_cert_reissues_when_the_names_change(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    first = ensure_server_cert(tmp_path, ca, NAMES, now=now)
    changed = ensure_server_cert(tmp_path, ca, [*NAMES[1:], "10.1.2.3"], now=now)
    assert changed.issued is True
    assert changed.reason == "names changed (added: 10.1.2.3; removed: localhost)"
    assert changed.names == {"nova.example.org", "127.0.0.1", "::1", "10.1.2.3"}
    assert server_cert_names(x509.load_pem_x509_certificate(changed.cert_file.read_bytes())) == (
        changed.names
    )
    assert changed.cert.serial_number != first.cert.serial_number
    # A fresh key pair, and the key on disk is the new certificate's.
    assert changed.cert.public_key() != first.cert.public_key()
    assert key_matches(changed.cert, _load_key(changed.key_file.read_bytes()))


def _load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def test_ensure_server_cert_renews_inside_the_window_only(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    first = ensure_server_cert(tmp_path, ca, NAMES, days=365, now=now)
    window = datetime.timedelta(days=30)

    kept = ensure_server_cert(tmp_path, ca, NAMES, renew_before=window, now=now + 334 * DAY)
    assert kept.issued is False

    renewed = ensure_server_cert(tmp_path, ca, NAMES, renew_before=window, now=now + 336 * DAY)
    assert renewed.issued is True
    assert renewed.reason.startswith("expires on 2032-")
    assert renewed.cert.serial_number != first.cert.serial_number
    assert renewed.cert.not_valid_after_utc == now + 336 * DAY + 365 * DAY


def test_ensure_server_cert_reissues_for_a_new_ca(
    tmp_path: Path, ca: CertificateAuthority, other_ca: CertificateAuthority, now: datetime.datetime
) -> None:
    ensure_server_cert(tmp_path, other_ca, NAMES, now=now)
    result = ensure_server_cert(tmp_path, ca, NAMES, now=now)
    assert result.issued is True
    assert result.reason == "not issued by the current CA"
    assert issued_by(result.cert, ca.cert)


def test_ensure_server_cert_repairs_a_mismatched_or_broken_pair(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    first = ensure_server_cert(tmp_path, ca, NAMES, now=now)
    stray = issue_server_cert(ca, ["localhost"], [], now=now)
    first.key_file.write_bytes(stray.key_pem)
    repaired = ensure_server_cert(tmp_path, ca, NAMES, now=now)
    assert repaired.reason == "the key does not match the certificate"

    repaired.cert_file.write_text("garbage")
    again = ensure_server_cert(tmp_path, ca, NAMES, now=now)
    assert again.issued is True
    assert again.reason.startswith("unreadable: server certificate")


# -- user-supplied certificates ------------------------------------------------------------


def _write_pair(directory: Path, cert_text: str, key_bytes: bytes) -> tuple[Path, Path]:
    cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    cert_file.write_text(cert_text)
    key_file.write_bytes(key_bytes)
    return cert_file, key_file


def test_user_supplied_pair_is_accepted_when_valid(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    issued = issue_server_cert(ca, ["nova.example.org"], [], now=now)
    cert_file, key_file = _write_pair(tmp_path, issued.cert_pem, issued.key_pem)
    (tmp_path / "ca.crt").write_text(ca.cert_pem)

    loaded = load_server_cert_files(cert_file, key_file, ca_file=tmp_path / "ca.crt", now=now)
    assert loaded.cert == issued.cert
    assert loaded.issued is False
    assert loaded.names == {"nova.example.org"}


def test_user_supplied_missing_or_garbage_files_are_named(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    issued = issue_server_cert(ca, ["localhost"], [], now=now)
    missing = tmp_path / "nope.crt"
    with pytest.raises(Invalid) as info:
        load_server_cert_files(missing, tmp_path / "nope.key", now=now)
    assert info.value.detail == f"TLS certificate {missing}: file not found"

    cert_file, key_file = _write_pair(tmp_path, "hello", issued.key_pem)
    with pytest.raises(
        Invalid, match=re.escape(f"TLS certificate {cert_file}: no PEM certificate")
    ):
        load_server_cert_files(cert_file, key_file, now=now)

    cert_file, key_file = _write_pair(tmp_path, issued.cert_pem, b"not a key")
    with pytest.raises(Invalid, match=re.escape(f"TLS key {key_file}: not a PEM private key")):
        load_server_cert_files(cert_file, key_file, now=now)


def test_user_supplied_key_must_match_the_certificate(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    one = issue_server_cert(ca, ["localhost"], [], now=now)
    two = issue_server_cert(ca, ["localhost"], [], now=now)
    cert_file, key_file = _write_pair(tmp_path, one.cert_pem, two.key_pem)
    with pytest.raises(Invalid) as info:
        load_server_cert_files(cert_file, key_file, now=now)
    assert info.value.detail == f"TLS key {key_file}: does not match the certificate in {cert_file}"


def test_user_supplied_encrypted_key_is_refused_clearly(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    issued = issue_server_cert(ca, ["localhost"], [], now=now)
    encrypted = issued.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    cert_file, key_file = _write_pair(tmp_path, issued.cert_pem, encrypted)
    with pytest.raises(Invalid, match=re.escape(f"TLS key {key_file}: the key is encrypted")):
        load_server_cert_files(cert_file, key_file, now=now)


def test_user_supplied_expired_or_future_certificate_is_refused(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    issued = issue_server_cert(ca, ["localhost"], [], days=30, now=now)
    cert_file, key_file = _write_pair(tmp_path, issued.cert_pem, issued.key_pem)
    with pytest.raises(
        Invalid, match=re.escape(f"TLS certificate {cert_file}: expired on 2031-03-31")
    ):
        load_server_cert_files(cert_file, key_file, now=now + 31 * DAY)
    with pytest.raises(Invalid, match="not valid before 2031-03-01T11:55:00Z"):
        load_server_cert_files(cert_file, key_file, now=now - DAY)


def test_user_supplied_certificate_must_chain_to_the_given_ca(
    tmp_path: Path, ca: CertificateAuthority, other_ca: CertificateAuthority, now: datetime.datetime
) -> None:
    issued = issue_server_cert(ca, ["localhost"], [], now=now)
    cert_file, key_file = _write_pair(tmp_path, issued.cert_pem, issued.key_pem)
    (tmp_path / "other.crt").write_text(other_ca.cert_pem)
    with pytest.raises(
        Invalid, match=re.escape(f"does not chain to the CA in {tmp_path / 'other.crt'}")
    ):
        load_server_cert_files(cert_file, key_file, ca_file=tmp_path / "other.crt", now=now)


def test_user_supplied_client_only_certificate_is_refused(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime, issue_agent
) -> None:
    request, cert = issue_agent("agent-1")
    cert_file, key_file = _write_pair(tmp_path, cert_pem(cert), request.key_pem)
    with pytest.raises(Invalid, match="does not include TLS server authentication"):
        load_server_cert_files(cert_file, key_file, now=now)


def _ca_cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer, now
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + 400 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def test_user_supplied_chain_through_an_intermediate(
    tmp_path: Path, now: datetime.datetime
) -> None:
    root_key, mid_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    root = _ca_cert("Corp Root", root_key, None, root_key, now)
    mid = _ca_cert("Corp Issuing", mid_key, root.subject, root_key, now)
    leaf = issue_server_cert(
        CertificateAuthority(cert=mid, key=mid_key), ["nova.corp"], [], now=now
    )
    (tmp_path / "root.crt").write_text(cert_pem(root))

    # Leaf alone: the intermediate is missing, and the error says what to do.
    cert_file, key_file = _write_pair(tmp_path, leaf.cert_pem, key_pem(leaf.key))
    with pytest.raises(Invalid, match="add any intermediate certificates"):
        load_server_cert_files(cert_file, key_file, ca_file=tmp_path / "root.crt", now=now)

    cert_file, key_file = _write_pair(tmp_path, leaf.cert_pem + cert_pem(mid), key_pem(leaf.key))
    loaded = load_server_cert_files(cert_file, key_file, ca_file=tmp_path / "root.crt", now=now)
    assert loaded.cert == leaf.cert
