"""The wiring's pure parts, without a server: the host-facts wire format, TLS facts from
settings and a real certificate, the session cookie as the sign-in route sets it, the
agent's facts reporter against a fake server, and the CLI's option parsing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from novacron.agent.host_facts_reporter import (
    DEFAULT_INTERVAL_S,
    Commands,
    HostFactsReporter,
    in_daemon_thread,
    interval_from_env,
)
from novacron.core.config import Settings
from novacron.core.errors import Invalid
from novacron.security.cli_compliance import expiry_option, failures_at_or_above, summary_line
from novacron.security.compliance import HostFacts, ListeningPort, run_checks
from novacron.security.compliance.facts_codec import host_facts_from_json, host_facts_to_json
from novacron.security.compliance.platform_context import (
    PlatformContext,
    parse_set_cookie,
    server_min_tls_version,
    session_cookie_flags,
)

# -- the wire format ----------------------------------------------------------------------


def test_host_facts_round_trip_through_json(make_host: Callable[..., HostFacts]) -> None:
    host = make_host("hv9")
    wire = json.loads(json.dumps(host_facts_to_json(host)))
    assert wire["listening_ports"][0] == {
        "protocol": "tcp",
        "address": "0.0.0.0",
        "port": 22,
        "process": "sshd",
        "pid": 812,
    }
    assert host_facts_from_json(wire) == host


def test_aware_times_become_naive_utc() -> None:
    facts = host_facts_from_json({"name": "h", "collected_at": "2025-03-14T13:00:00+01:00"})
    assert facts.collected_at == dt.datetime(2025, 3, 14, 12, 0, 0)
    assert facts.listening_ports is None and facts.pending_updates is None


def test_bad_facts_name_every_wrong_field() -> None:
    with pytest.raises(Invalid) as caught:
        host_facts_from_json(
            {
                "name": "h",
                "listening_ports": [{"protocol": "tcp", "address": "::", "port": "x"}],
                "pending_updates": {"state": "maybe"},
            }
        )
    locs = [e["loc"] for e in caught.value.errors]
    assert ["body", "listening_ports", "0", "port"] in locs
    assert ["body", "pending_updates", "state"] in locs
    assert caught.value.detail.startswith("invalid host facts: listening_ports.0.port: ")


def test_too_many_items_are_refused() -> None:
    ports = [{"protocol": "tcp", "address": "0.0.0.0", "port": 1}] * 20_001
    with pytest.raises(Invalid, match="more than 20000 items in listening_ports"):
        host_facts_from_json({"name": "h", "listening_ports": ports})


# -- transport and cookie facts from settings -----------------------------------------------


def _certificate(path: Path, not_after: dt.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "novacron.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _context(tmp_path: Path, **settings: Any) -> PlatformContext:
    # tls(), agents_use_mtls() and session_cookie() read settings only, not the database.
    return PlatformContext(None, Settings(data_dir=tmp_path, **settings))  # type: ignore[arg-type]


def test_tls_served_directly_reports_version_and_certificate_expiry(tmp_path: Path) -> None:
    expires = dt.datetime(2031, 1, 2, 3, 4, 5)
    _certificate(tmp_path / "server.crt", expires.replace(tzinfo=dt.UTC))
    ctx = _context(
        tmp_path, tls=True, tls_cert_file=tmp_path / "server.crt", tls_client_certs="required"
    )
    tls = ctx.tls()
    assert (tls.enabled, tls.min_version, tls.certificate_expires_at) == (True, "TLSv1.2", expires)
    assert ctx.agents_use_mtls() is True
    cookie = ctx.session_cookie()
    assert (cookie.secure, cookie.http_only, cookie.same_site) == (True, True, "strict")


def test_tls_at_a_proxy_counts_but_its_details_are_unknown(tmp_path: Path) -> None:
    ctx = _context(tmp_path, public_url="https://novacron.example.org", tls_client_certs="required")
    tls = ctx.tls()
    assert (tls.enabled, tls.min_version, tls.certificate_expires_at) == (True, None, None)
    assert ctx.agents_use_mtls() is False  # the proxy, not NovaCron, would check them


def test_optional_client_certificates_are_not_mutual_tls(tmp_path: Path) -> None:
    ctx = _context(tmp_path, tls=True, tls_client_certs="optional")
    assert ctx.agents_use_mtls() is False
    # No certificate file where the server would keep its own: expiry unknown, not a crash.
    assert ctx.tls().certificate_expires_at is None


def test_transport_checks_follow_the_settings(tmp_path: Path) -> None:
    _certificate(tmp_path / "server.crt", dt.datetime.now(dt.UTC) + dt.timedelta(days=10))
    ctx = _context(tmp_path, tls=True, tls_cert_file=tmp_path / "server.crt")
    only = {"NC-TLS-001", "NC-TLS-002", "NC-TLS-003", "NC-AGT-001", "NC-SES-001"}
    verdicts = {f.check_id: f.status.value for f in run_checks(ctx, only=only)}
    assert verdicts == {
        "NC-TLS-001": "pass",
        "NC-TLS-002": "pass",
        "NC-TLS-003": "fail",  # 10 days left, the warning starts at 30
        "NC-AGT-001": "fail",
        "NC-SES-001": "pass",
    }


def test_cookie_flags_are_read_from_the_sign_in_route() -> None:
    plain = session_cookie_flags(https=False)
    assert (plain.secure, plain.http_only, plain.same_site) == (False, True, "strict")
    assert server_min_tls_version() == "TLSv1.2"


def test_set_cookie_parsing() -> None:
    flags = parse_set_cookie("sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax")
    assert (flags.secure, flags.http_only, flags.same_site) == (True, True, "lax")
    bare = parse_set_cookie("sid=abc; Path=/")
    assert (bare.secure, bare.http_only, bare.same_site) == (False, False, None)


# -- the agent's reporter -------------------------------------------------------------------


def test_interval_from_the_environment() -> None:
    assert interval_from_env({}) == DEFAULT_INTERVAL_S == 6 * 3600
    assert interval_from_env({"NOVACRON_FACTS_INTERVAL": "30m"}) == 1800
    assert interval_from_env({"NOVACRON_FACTS_INTERVAL": "2d"}) == 2 * 86400
    assert interval_from_env({"NOVACRON_FACTS_INTERVAL": "5"}) == 60  # at least a minute
    assert interval_from_env({"NOVACRON_FACTS_INTERVAL": "often"}) == DEFAULT_INTERVAL_S


def _reporter(token: Callable[[], str | None]) -> HostFactsReporter:
    return HostFactsReporter(
        server_url="http://server.test/",
        name="hv1",
        token=token,
        interval_s=60,
        retry_initial_s=0.01,
        token_poll_s=0.01,
    )


def test_reporter_waits_for_a_token_and_follows_re_registration() -> None:
    tokens = iter([None, None, "old", "old", "old", "new"])
    current: list[str | None] = [None]

    def token() -> str | None:
        current[0] = next(tokens, current[0])
        return current[0]

    seen: list[tuple[str, dict[str, Any]]] = []

    def server(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"]
        seen.append((auth, json.loads(request.content)))
        if auth == "Bearer old":
            return httpx.Response(401, json={"detail": "invalid or revoked token"})
        return httpx.Response(200, json={"host": "hv1", "collected_at": "2025-01-01T00:00:00"})

    facts = HostFacts(name="hv1", listening_ports=(ListeningPort("tcp", "0.0.0.0", 22),))
    reporter = _reporter(token)

    async def send() -> bool:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            return await reporter.send(http, facts)

    assert asyncio.run(send()) is True
    # The stale token is tried once, not hammered while the agent registers again.
    assert [auth for auth, _ in seen] == ["Bearer old", "Bearer new"]
    assert seen[-1][1]["listening_ports"][0]["port"] == 22
    assert reporter.reports_sent == 1


def test_reporter_gives_up_on_a_refused_report_and_retries_server_errors() -> None:
    answers = iter([httpx.Response(503), httpx.Response(422, json={"detail": "bad"})])
    calls: list[int] = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return next(answers)

    reporter = _reporter(lambda: "tok")

    async def send() -> bool:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            return await reporter.send(http, HostFacts(name="hv1"))

    assert asyncio.run(send()) is False
    assert len(calls) == 2 and reporter.reports_sent == 0


def test_quick_facts_leave_pending_updates_out() -> None:
    reporter = _reporter(lambda: None)
    reporter.expected_ports = (9443,)
    facts = reporter.quick_facts()
    assert facts.name == "hv1" and facts.pending_updates is None
    assert facts.expected_ports == (9443,) and facts.collected_at is not None


def test_stopping_kills_a_running_command() -> None:
    commands = Commands()

    async def main() -> float:
        started = time.monotonic()
        task = asyncio.ensure_future(in_daemon_thread(lambda: commands(["sleep", "30"])))
        await asyncio.sleep(0.3)
        commands.kill_all()
        result = await asyncio.wait_for(task, 20)
        assert result.returncode == -9
        return time.monotonic() - started

    elapsed = asyncio.run(main())
    assert elapsed < 20
    with pytest.raises(OSError, match="stopping"):
        commands(["true"])


# -- the CLI's helpers ------------------------------------------------------------------------


def test_expiry_option() -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert expiry_option("30d", now) == "2030-01-31T00:00:00Z"
    assert expiry_option("12h", now) == "2030-01-01T12:00:00Z"
    assert expiry_option("2030-02-01", now) == "2030-02-01T00:00:00Z"
    assert expiry_option("2030-02-01T10:00:00+02:00", now) == "2030-02-01T08:00:00Z"
    with pytest.raises(Invalid, match="'tomorrow' is not a time"):
        expiry_option("tomorrow", now)


def test_fail_on_and_summary() -> None:
    found = [
        {"check_id": "A", "status": "fail", "severity": "medium"},
        {"check_id": "B", "status": "fail", "severity": "critical"},
        {"check_id": "C", "status": "pass", "severity": "critical"},
        {"check_id": "D", "status": "muted", "severity": "high"},
    ]
    assert [f["check_id"] for f in failures_at_or_above(found, "high")] == ["B"]
    assert [f["check_id"] for f in failures_at_or_above(found, "low")] == ["A", "B"]
    run = {
        "id": "crun-1",
        "summary": {"counts": {"pass": 3, "fail": 1, "muted": 1}, "pass_rate": 0.75},
    }
    assert summary_line(run) == (
        "compliance run crun-1: 3 passed, 1 failed, 0 errors, 1 muted, 0 skipped (pass rate 75%)"
    )
