"""The agent's TLS set-up without a server: what it refuses before it sends anything."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import pytest

from novacron.core.errors import Invalid
from novacron.security.pki import cert_pem, create_ca, make_csr, sign_agent_csr
from novacron.security.pki.agent_tls import prepare_agent_tls

DAY = datetime.timedelta(days=1)


def _install(directory: Path, name: str, *, issued_days_ago: int = 0, days: int = 90) -> None:
    """Credentials as enrolment leaves them (agent.key, agent.crt, ca.crt, the pinned CA)."""
    now = datetime.datetime.now(datetime.UTC)
    ca = create_ca(now=now - 400 * DAY)
    request = make_csr(name)
    cert = sign_agent_csr(ca, request.csr_pem, name, days, now=now - issued_days_ago * DAY)
    directory.mkdir(parents=True)
    (directory / "agent.key").write_bytes(request.key_pem)
    (directory / "agent.key").chmod(0o600)
    (directory / "agent.crt").write_text(cert_pem(cert))
    (directory / "ca.crt").write_text(ca.cert_pem)
    (directory / "server-ca.crt").write_text(ca.cert_pem)
    (directory / "registration-token").write_text("nce_registration\n")


def test_plain_http_needs_no_tls_and_refuses_tls_options(tmp_path: Path) -> None:
    assert asyncio.run(prepare_agent_tls("http://127.0.0.1:1", tmp_path, "a1")) is None
    assert not any(tmp_path.iterdir())
    with pytest.raises(Invalid, match="--enrol-token, --ca-fingerprint need an https://"):
        asyncio.run(
            prepare_agent_tls(
                "http://127.0.0.1:1",
                tmp_path,
                "a1",
                enrol_token="nco_x",
                ca_fingerprint="sha256:00",
            )
        )


def test_an_enrolled_agent_starts_from_its_files_alone(tmp_path: Path) -> None:
    _install(tmp_path / "tls", "a1")
    # Port 1: nothing listens; nothing needs to, everything is on disk.
    tls = asyncio.run(prepare_agent_tls("https://127.0.0.1:1", tmp_path / "tls", "a1"))
    assert tls is not None and tls.credentials is not None
    assert (tls.credentials.name, tls.registration_token) == ("a1", "nce_registration")
    assert tls.server_ca == tmp_path / "tls" / "server-ca.crt"
    assert not tls.rotation_due()
    tls.ssl_context()  # loads the key and certificate


def test_credentials_of_another_agent_or_expired_ones_are_refused(tmp_path: Path) -> None:
    _install(tmp_path / "other" / "tls", "a1")
    with pytest.raises(Invalid, match="agent 'a1''s, not 'a2''s"):
        asyncio.run(prepare_agent_tls("https://127.0.0.1:1", tmp_path / "other" / "tls", "a2"))
    _install(tmp_path / "old" / "tls", "a1", issued_days_ago=100, days=90)
    with pytest.raises(Invalid, match=r"expired .*enrol again: --enrol-token"):
        asyncio.run(prepare_agent_tls("https://127.0.0.1:1", tmp_path / "old" / "tls", "a1"))


def test_a_certificate_near_its_end_is_due_for_rotation(tmp_path: Path) -> None:
    _install(tmp_path / "tls", "a1", issued_days_ago=70, days=90)
    tls = asyncio.run(prepare_agent_tls("https://127.0.0.1:1", tmp_path / "tls", "a1"))
    assert tls is not None and tls.rotation_due()
    later = asyncio.run(
        prepare_agent_tls(
            "https://127.0.0.1:1", tmp_path / "tls", "a1", renew_before=datetime.timedelta(0)
        )
    )
    assert later is not None and not later.rotation_due()
