"""The CA directory: created once, loaded back, never silently replaced."""

from __future__ import annotations

import datetime
import re
import shutil
import stat
from pathlib import Path

import pytest
from cryptography import x509

from novacron.core.errors import Invalid
from novacron.security.pki import CertificateAuthority, create_ca, ensure_ca, load_ca, save_ca
from novacron.security.pki._x509 import issued_by, key_matches


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_ca_creates_a_self_signed_ca_with_a_private_key(
    tmp_path: Path, now: datetime.datetime
) -> None:
    directory = tmp_path / "pki" / "ca"
    ca = ensure_ca(directory, now=now)

    assert _mode(directory / "ca.key") == 0o600
    assert _mode(directory) == 0o700
    assert (directory / "ca.crt").read_text() == ca.cert_pem
    constraints = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True
    assert constraints.path_length == 0  # leaves only: no sub-CAs
    usage = ca.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert issued_by(ca.cert, ca.cert)
    assert key_matches(ca.cert, ca.key)
    assert ca.cert.not_valid_after_utc - ca.cert.not_valid_before_utc >= datetime.timedelta(
        days=3650
    )
    assert ca.fingerprint.startswith("sha256:") and len(ca.fingerprint) == 7 + 64


def test_ensure_ca_is_idempotent(tmp_path: Path, now: datetime.datetime) -> None:
    first = ensure_ca(tmp_path, now=now)
    second = ensure_ca(tmp_path, now=now + datetime.timedelta(days=100))
    assert second.cert == first.cert
    assert second.fingerprint == first.fingerprint
    assert key_matches(second.cert, first.key)


def test_save_and_load_round_trip(tmp_path: Path, ca: CertificateAuthority) -> None:
    save_ca(ca, tmp_path)
    loaded = load_ca(tmp_path)
    assert loaded.cert == ca.cert
    assert key_matches(loaded.cert, loaded.key)


def test_two_cas_never_share_a_subject(now: datetime.datetime) -> None:
    assert create_ca(now=now).cert.subject != create_ca(now=now).cert.subject


@pytest.mark.parametrize("missing", ["ca.key", "ca.crt"])
def test_ensure_ca_refuses_a_half_present_ca(
    tmp_path: Path, now: datetime.datetime, missing: str
) -> None:
    ensure_ca(tmp_path, now=now)
    (tmp_path / missing).unlink()
    with pytest.raises(Invalid, match=re.escape(f"{missing} is missing")) as info:
        ensure_ca(tmp_path, now=now)
    assert str(tmp_path) in info.value.detail
    assert not (tmp_path / missing).exists()  # nothing was recreated behind our back


def test_load_ca_refuses_a_key_others_can_read(tmp_path: Path, ca: CertificateAuthority) -> None:
    save_ca(ca, tmp_path)
    (tmp_path / "ca.key").chmod(0o644)
    with pytest.raises(Invalid, match="chmod 600") as info:
        load_ca(tmp_path)
    assert str(tmp_path / "ca.key") in info.value.detail


def test_load_ca_refuses_a_key_of_another_ca(
    tmp_path: Path, ca: CertificateAuthority, other_ca: CertificateAuthority
) -> None:
    save_ca(ca, tmp_path / "ours")
    save_ca(other_ca, tmp_path / "theirs")
    shutil.copy(tmp_path / "theirs" / "ca.key", tmp_path / "ours" / "ca.key")
    with pytest.raises(Invalid, match="does not belong to the certificate"):
        load_ca(tmp_path / "ours")


def test_load_ca_names_a_file_that_is_not_pem(tmp_path: Path, ca: CertificateAuthority) -> None:
    save_ca(ca, tmp_path)
    (tmp_path / "ca.crt").write_text("not a certificate\n")
    with pytest.raises(Invalid, match="no PEM certificate") as info:
        load_ca(tmp_path)
    assert str(tmp_path / "ca.crt") in info.value.detail


def test_load_ca_refuses_a_leaf_certificate(tmp_path: Path, ca: CertificateAuthority) -> None:
    from novacron.security.pki import issue_server_cert

    leaf = issue_server_cert(ca, ["localhost"], [], now=ca.cert.not_valid_before_utc)
    save_ca(CertificateAuthority(cert=leaf.cert, key=leaf.key), tmp_path)
    with pytest.raises(Invalid, match="not a CA certificate"):
        load_ca(tmp_path)


def test_ensure_ca_refuses_an_expired_ca(tmp_path: Path, now: datetime.datetime) -> None:
    ensure_ca(tmp_path, days=1, now=now)
    with pytest.raises(Invalid, match="expired on"):
        ensure_ca(tmp_path, now=now + datetime.timedelta(days=2))
    # Still there: the operator decides what to do with the old CA.
    assert (tmp_path / "ca.key").exists()
