"""What a server start does for HTTPS: issue (and reissue) the certificate, check an
operator's files, build uvicorn's options; and ``novacron server`` / ``novacron up --tls``
serving HTTPS for real."""

from __future__ import annotations

import logging
import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from novacron.cli import app
from novacron.core.config import Settings
from novacron.core.errors import Invalid
from novacron.security.pki import (
    client_ssl_context,
    create_ca,
    issue_server_cert,
    load_agent_credentials,
)
from novacron.security.pki.serving import prepare_server_tls, public_url
from novacron.testing.cluster import free_port, wait_until


def test_tls_off_means_nothing_to_prepare(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, port=8443)
    assert prepare_server_tls(settings) is None
    assert public_url(settings) == "http://127.0.0.1:8443"
    assert not (tmp_path / "tls").exists()


def test_the_certificate_is_issued_once_and_reissued_when_names_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path, tls=True, port=8443)
    assert public_url(settings) == "https://127.0.0.1:8443"
    with caplog.at_level(logging.INFO, logger="novacron.tls"):
        first = prepare_server_tls(settings)
    assert first is not None and first.cert.issued and not first.own_cert
    assert {"localhost", "127.0.0.1", "::1"} <= first.cert.names
    assert "no certificate yet" in caplog.text
    assert first.ca_file == tmp_path / "tls" / "ca.crt"
    caplog.clear()

    again = prepare_server_tls(settings)
    assert again is not None and not again.cert.issued
    assert again.cert.cert.serial_number == first.cert.cert.serial_number

    moved = Settings(data_dir=tmp_path, tls=True, public_url="https://nova.example.org:8443")
    with caplog.at_level(logging.INFO, logger="novacron.tls"):
        third = prepare_server_tls(moved)
    assert third is not None and third.cert.issued and "nova.example.org" in third.cert.names
    assert "names changed (added: nova.example.org" in caplog.text
    assert public_url(moved) == "https://nova.example.org:8443"


def test_uvicorn_asks_for_client_certificates_only_when_agents_use_them(tmp_path: Path) -> None:
    off = prepare_server_tls(Settings(data_dir=tmp_path, tls=True))
    required = prepare_server_tls(
        Settings(data_dir=tmp_path, tls=True, tls_client_certs="required")
    )
    assert off is not None and required is not None
    assert off.uvicorn_kwargs()["ssl_ca_certs"] is None
    kwargs = required.uvicorn_kwargs()
    assert kwargs["ssl_ca_certs"] == str(tmp_path / "tls" / "ca.crt")
    # Asked for, not demanded, at the handshake: the CLI and new agents must connect.
    assert kwargs["ssl_cert_reqs"] == ssl.CERT_OPTIONAL
    assert kwargs["http"].__name__.endswith("ClientCertProtocol")


def test_an_operators_certificate_is_checked_before_use(tmp_path: Path) -> None:
    org = create_ca("Org CA")
    pair = issue_server_cert(org, ["nova.example.org"], [])
    cert, key = tmp_path / "nova.crt", tmp_path / "nova.key"
    cert.write_text(pair.cert_pem)
    key.write_bytes(pair.key_pem)
    other = tmp_path / "other.key"
    other.write_bytes(issue_server_cert(org, ["x.example.org"], []).key_pem)

    with pytest.raises(Invalid, match="tls_cert_file is set but tls_key_file is not"):
        prepare_server_tls(Settings(data_dir=tmp_path, tls=True, tls_cert_file=cert))
    with pytest.raises(Invalid, match=f"TLS key {other}: does not match"):
        prepare_server_tls(
            Settings(data_dir=tmp_path, tls=True, tls_cert_file=cert, tls_key_file=other)
        )
    tls = prepare_server_tls(
        Settings(
            data_dir=tmp_path,
            tls=True,
            tls_cert_file=cert,
            tls_key_file=key,
            tls_client_certs="optional",
        )
    )
    assert tls is not None and tls.own_cert and tls.cert.cert_file == cert
    # Agents' certificates still come from NovaCron's own CA.
    assert tls.uvicorn_kwargs()["ssl_ca_certs"] == str(tmp_path / "tls" / "ca.crt")
    assert not (tmp_path / "tls" / "server.crt").exists()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOVACRON_")}
    return {**env, "NOVACRON_DATA_DIR": str(tmp_path), **extra}


def test_novacron_server_names_a_bad_certificate_file_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.crt"
    monkeypatch.setenv("NOVACRON_TLS", "1")
    monkeypatch.setenv("NOVACRON_TLS_CERT_FILE", str(missing))
    monkeypatch.setenv("NOVACRON_TLS_KEY_FILE", str(tmp_path / "missing.key"))
    # Fails before uvicorn would start: safe to run in-process.
    result = CliRunner().invoke(app, ["server", "--data-dir", str(tmp_path), "--port", "1"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: TLS certificate {missing}: file not found"


@pytest.mark.slow
def test_novacron_server_serves_https(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "novacron", "server", "--port", str(port), "--log-level", "warning"],
        env=_env(tmp_path, NOVACRON_TLS="1"),
    )
    try:
        ca_file = tmp_path / "tls" / "ca.crt"
        wait_until(lambda: ca_file.exists() or proc.poll() is not None, 60, what="the CA")

        def answers() -> bool:
            try:
                verify = client_ssl_context(ca_file)
                url = f"https://127.0.0.1:{port}/healthz"
                return httpx.get(url, verify=verify, timeout=2).status_code == 200
            except (httpx.HTTPError, Invalid):
                return proc.poll() is not None

        wait_until(answers, 60, what="https healthz")
        assert proc.poll() is None
        with pytest.raises(httpx.ConnectError):  # plain HTTP clients get nothing
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.slow
def test_up_with_tls_serves_https_and_its_local_agent_enrols(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "novacron",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--driver",
            "sim",
            "--hosts",
            "2",
            "--tls",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(tmp_path, NOVACRON_TLS_CLIENT_CERTS="required"),
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C stops" in line:
                break
        output = "".join(lines)
        ca_file = data_dir / "tls" / "ca.crt"
        assert f"dashboard https://127.0.0.1:{port}/" in output, output
        assert f"TLS: NovaCron's CA is {ca_file}; the CLI trusts it" in output
        token = (data_dir / "admin-token").read_text().strip()
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            verify=client_ssl_context(ca_file),
            timeout=10,
        ) as api:
            wait_until(lambda: api.get("/hosts").json()["total"] == 2, 30, what="local hosts")
            [cert] = api.get("/security/pki/certs", params={"agent": "local"}).json()
        creds = load_agent_credentials(data_dir / "agent" / "tls")
        assert (creds.name, f"{creds.cert.serial_number:x}") == ("local", cert["serial"])
        assert (data_dir / "agent" / "tls" / "ca.crt").read_bytes() == ca_file.read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
