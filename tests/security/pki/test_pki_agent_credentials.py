"""The agent's own directory: enrol, rotate, interrupted installs, CA pinning."""

from __future__ import annotations

import datetime
import os
import re
import stat
from pathlib import Path

import pytest

from novacron.core.errors import Invalid
from novacron.security.pki import (
    AgentCredentials,
    CertificateAuthority,
    cert_pem,
    check_ca_fingerprint,
    enrol,
    load_agent_credentials,
    make_csr,
    rotate,
    sign_agent_csr,
    sign_rotation_csr,
)
from novacron.security.pki._x509 import key_matches, load_key_file

DAY = datetime.timedelta(days=1)


def _enrolled(
    directory: Path, ca: CertificateAuthority, now: datetime.datetime
) -> AgentCredentials:
    return enrol(
        directory,
        "agent-1",
        ca.cert_pem,
        lambda csr: cert_pem(sign_agent_csr(ca, csr, "agent-1", now=now)),
        now=now,
    )


def test_enrol_installs_key_certificate_and_ca(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    creds = _enrolled(tmp_path / "agent", ca, now)

    assert creds.name == "agent-1"
    assert stat.S_IMODE(creds.key_file.stat().st_mode) == 0o600
    assert creds.ca_file.read_text() == ca.cert_pem
    assert key_matches(creds.cert, load_key_file(creds.key_file, "key"))
    assert sorted(os.listdir(tmp_path / "agent")) == ["agent.crt", "agent.key", "ca.crt"]

    loaded = load_agent_credentials(tmp_path / "agent", now=now)
    assert loaded == creds


def test_enrol_checks_what_the_server_returns(
    tmp_path: Path, ca: CertificateAuthority, other_ca: CertificateAuthority, now: datetime.datetime
) -> None:
    other_key = make_csr("agent-1")
    with pytest.raises(Invalid, match="certificate for another key"):
        enrol(
            tmp_path,
            "agent-1",
            ca.cert_pem,
            lambda csr: cert_pem(sign_agent_csr(ca, other_key.csr_pem, "agent-1", now=now)),
            now=now,
        )
    with pytest.raises(Invalid, match="unusable certificate: client certificate not issued"):
        enrol(
            tmp_path,
            "agent-1",
            ca.cert_pem,
            lambda csr: cert_pem(sign_agent_csr(other_ca, csr, "agent-1", now=now)),
            now=now,
        )
    with pytest.raises(Invalid, match="not a PEM certificate"):
        enrol(tmp_path, "agent-1", ca.cert_pem, lambda csr: "oops", now=now)
    assert not (tmp_path / "agent.key").exists()  # nothing installed from a bad answer


def test_rotate_does_nothing_until_due(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    creds = _enrolled(tmp_path, ca, now)
    calls: list[str] = []
    assert (
        rotate(tmp_path, lambda current, csr: calls.append(csr) or "", now=now + 59 * DAY) is None
    )
    assert calls == []
    assert load_agent_credentials(tmp_path, now=now).cert == creds.cert


def test_rotate_replaces_key_and_certificate_when_due(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    old = _enrolled(tmp_path, ca, now)
    old_key = tmp_path.joinpath("agent.key").read_bytes()
    later = now + 61 * DAY
    presented: list[AgentCredentials] = []

    def submit(current: AgentCredentials, csr: str) -> str:
        presented.append(current)
        return cert_pem(sign_rotation_csr(ca, csr, current.cert, now=later))

    new = rotate(tmp_path, submit, now=later)

    assert new is not None
    assert presented == [old]  # the request went out with the current certificate
    assert new.name == "agent-1"
    assert new.cert.serial_number != old.cert.serial_number
    assert tmp_path.joinpath("agent.key").read_bytes() != old_key
    assert load_agent_credentials(tmp_path, now=later) == new
    assert sorted(os.listdir(tmp_path)) == ["agent.crt", "agent.key", "ca.crt"]


def test_rotate_with_force_before_due(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    old = _enrolled(tmp_path, ca, now)
    new = rotate(
        tmp_path,
        lambda current, csr: cert_pem(sign_rotation_csr(ca, csr, current.cert, now=now)),
        now=now,
        force=True,
    )
    assert new is not None and new.cert != old.cert


def test_an_expired_certificate_cannot_rotate(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    _enrolled(tmp_path, ca, now)
    calls: list[str] = []
    with pytest.raises(Invalid, match=r"agent certificate .*expired on"):
        rotate(tmp_path, lambda current, csr: calls.append(csr) or "", now=now + 91 * DAY)
    assert calls == []


def test_load_finishes_an_install_interrupted_between_renames(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    _enrolled(tmp_path, ca, now)
    fresh = make_csr("agent-1")
    cert = sign_agent_csr(ca, fresh.csr_pem, "agent-1", now=now)
    # What _install leaves behind when the process dies after renaming the key only.
    (tmp_path / "agent.key").write_bytes(fresh.key_pem)
    (tmp_path / "agent.crt.next").write_text(cert_pem(cert))

    loaded = load_agent_credentials(tmp_path, now=now)
    assert loaded.cert == cert
    assert not (tmp_path / "agent.crt.next").exists()


def test_load_discards_an_install_interrupted_before_the_renames(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    creds = _enrolled(tmp_path, ca, now)
    fresh = make_csr("agent-1")
    (tmp_path / "agent.key.next").write_bytes(fresh.key_pem)
    (tmp_path / "agent.crt.next").write_text(
        cert_pem(sign_agent_csr(ca, fresh.csr_pem, "agent-1", now=now))
    )
    assert load_agent_credentials(tmp_path, now=now).cert == creds.cert
    assert sorted(os.listdir(tmp_path)) == ["agent.crt", "agent.key", "ca.crt"]


def test_load_names_a_mismatched_key(
    tmp_path: Path, ca: CertificateAuthority, now: datetime.datetime
) -> None:
    _enrolled(tmp_path, ca, now)
    (tmp_path / "agent.key").write_bytes(make_csr("agent-1").key_pem)
    with pytest.raises(
        Invalid, match=re.escape(f"agent key {tmp_path / 'agent.key'}: does not match")
    ):
        load_agent_credentials(tmp_path, now=now)


def test_check_ca_fingerprint(ca: CertificateAuthority, other_ca: CertificateAuthority) -> None:
    assert check_ca_fingerprint(ca.cert_pem, ca.fingerprint) == ca.cert
    assert check_ca_fingerprint(ca.cert_pem, ca.fingerprint.upper().removeprefix("SHA256:")) == (
        ca.cert
    )
    with pytest.raises(Invalid, match="refusing to trust it"):
        check_ca_fingerprint(other_ca.cert_pem, ca.fingerprint)
