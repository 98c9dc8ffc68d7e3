"""SSLContext factories and uvicorn options: the settings, and clear errors for bad files."""

from __future__ import annotations

import datetime
import re
import ssl
from pathlib import Path

import pytest

from novacron.core.errors import Invalid
from novacron.security.pki import (
    CertificateAuthority,
    client_ssl_context,
    issue_server_cert,
    server_ssl_context,
    uvicorn_ssl_kwargs,
)
from novacron.security.pki.asgi import client_cert_protocol


@pytest.fixture
def files(tmp_path: Path, ca: CertificateAuthority) -> dict[str, Path]:
    # Real time: OpenSSL checks nothing at load, but keep the files plausible.
    issued = issue_server_cert(
        ca, ["localhost"], ["127.0.0.1"], now=datetime.datetime.now(datetime.UTC)
    )
    paths = {"cert": tmp_path / "s.crt", "key": tmp_path / "s.key", "ca": tmp_path / "ca.crt"}
    paths["cert"].write_text(issued.cert_pem)
    paths["key"].write_bytes(issued.key_pem)
    paths["ca"].write_text(ca.cert_pem)
    return paths


@pytest.mark.parametrize(
    ("with_ca", "require", "mode"),
    [
        (False, False, ssl.CERT_NONE),
        (True, False, ssl.CERT_OPTIONAL),
        (True, True, ssl.CERT_REQUIRED),
    ],
)
def test_server_context_client_certificate_modes(
    files: dict[str, Path], with_ca: bool, require: bool, mode: ssl.VerifyMode
) -> None:
    ctx = server_ssl_context(files["cert"], files["key"], files["ca"] if with_ca else None, require)
    assert ctx.verify_mode == mode
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    tls12 = {c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert tls12, "some TLS 1.2 suites must remain"
    assert all(name.startswith("ECDHE-") for name in tls12)
    assert not any("CBC" in name or name.endswith("-SHA") for name in tls12)


def test_server_context_requiring_clients_needs_a_ca(files: dict[str, Path]) -> None:
    with pytest.raises(Invalid, match="needs a CA"):
        server_ssl_context(files["cert"], files["key"], None, require_client=True)


def test_server_context_names_bad_files(
    tmp_path: Path, files: dict[str, Path], ca: CertificateAuthority
) -> None:
    with pytest.raises(
        Invalid, match=re.escape(f"TLS key {tmp_path / 'none.key'}: file not found")
    ):
        server_ssl_context(files["cert"], tmp_path / "none.key")
    other = issue_server_cert(ca, ["localhost"], [], now=datetime.datetime.now(datetime.UTC))
    (tmp_path / "other.key").write_bytes(other.key_pem)
    with pytest.raises(Invalid, match="cannot be used together"):
        server_ssl_context(files["cert"], tmp_path / "other.key")
    (tmp_path / "junk.crt").write_text("junk")
    with pytest.raises(
        Invalid, match=re.escape(f"CA certificate {tmp_path / 'junk.crt'}: not a PEM")
    ):
        server_ssl_context(files["cert"], files["key"], tmp_path / "junk.crt")


def test_client_context_verifies_server_and_hostname(files: dict[str, Path]) -> None:
    ctx = client_ssl_context(files["ca"])
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    with pytest.raises(Invalid, match="key without its certificate"):
        client_ssl_context(files["ca"], key=files["key"])


def test_uvicorn_kwargs(files: dict[str, Path]) -> None:
    kwargs = uvicorn_ssl_kwargs(files["cert"], files["key"], files["ca"], require_client=True)
    assert kwargs["ssl_certfile"] == str(files["cert"])
    assert kwargs["ssl_keyfile"] == str(files["key"])
    assert kwargs["ssl_ca_certs"] == str(files["ca"])
    assert kwargs["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    assert kwargs["ssl_ciphers"].startswith("ECDHE+AESGCM")
    assert kwargs["http"] is client_cert_protocol()

    plain = uvicorn_ssl_kwargs(files["cert"], files["key"], expose_client_cert=False)
    assert plain["ssl_cert_reqs"] == ssl.CERT_NONE
    assert plain["ssl_ca_certs"] is None
    assert "http" not in plain


def test_client_cert_protocol_matches_uvicorns_auto_choice() -> None:
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    protocol = client_cert_protocol()
    assert issubclass(protocol, AutoHTTPProtocol)
