"""``novacron compliance …`` in-process against the live server, as an admin types it."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

from compliance_live_helpers import unique

from novacron.testing.cli import CLI
from novacron.testing.cluster import Cluster
from novacron.testing.security import user_token


def test_run_show_and_runs(live: Cluster) -> None:
    cli = CLI(live.url, live.token)
    result = cli("compliance", "run")
    first = result.stdout.splitlines()[0]
    assert first.startswith("compliance run crun-") and "failed" in first and "pass rate" in first
    assert "NC-TLS-001" in result.stdout and "plain HTTP" in result.stdout

    detail = cli.json("compliance", "run")
    assert len(detail["findings"]) >= 15
    latest = cli.json("compliance", "show", "latest")
    assert latest["id"] == detail["id"]
    failing = cli.json("compliance", "show", detail["id"], "--status", "fail")
    assert {f["status"] for f in failing["findings"]} == {"fail"}
    table = cli("compliance", "show", detail["id"], "--check", "NC-IAM-003").stdout
    assert "NC-IAM-003" in table and "NC-TLS-001" not in table

    runs = cli.json("compliance", "runs", "--limit", "2")
    assert runs["items"][0]["id"] == detail["id"] and runs["limit"] == 2
    listing = cli("compliance", "runs").stdout
    assert detail["id"] in listing and "PASS RATE" in listing
    trend = cli.json("compliance", "trend", "--runs", "2")
    assert [t["run_id"] for t in trend][-1] == detail["id"]


def test_fail_on_severity_for_ci(live: Cluster) -> None:
    cli = CLI(live.url, live.token)
    # NC-TLS-001 (high) fails on plain HTTP; nothing critical fails on a fresh server.
    assert cli("compliance", "run", "--fail-on", "critical").exit_code == 0
    line = cli.error("compliance", "run", "--fail-on", "high")
    assert line.startswith("error: ") and "of severity high or worse failed" in line
    assert "NC-TLS-001" in line


def test_report_to_a_private_file(live: Cluster, tmp_path: Path) -> None:
    cli = CLI(live.url, live.token)
    run_id = cli.json("compliance", "run")["id"]
    out = tmp_path / "report.csv"
    said = cli("compliance", "report", run_id, "--format", "csv", "--out", str(out)).stdout
    assert said.strip() == f"wrote the csv report of {run_id} to {out}"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert any(r["check_id"] == "NC-TLS-001" and r["status"] == "fail" for r in rows)
    sarif = json.loads(cli("compliance", "report", "latest", "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    assert cli.error("compliance", "report", "crun-missing") == (
        "error: no compliance run crun-missing"
    )


def test_mutes_from_the_cli(live: Cluster) -> None:
    cli = CLI(live.url, live.token)
    said = cli(
        "compliance", "mute", "add", "NC-AGT-001", "--reason", "lab agents", "--expires", "2d"
    ).stdout
    assert said.startswith("muted NC-AGT-001 on * until ")
    mute_id = said.strip().rsplit("(", 1)[1].rstrip(")")
    try:
        mutes = cli.json("compliance", "mute", "list")
        assert any(m["id"] == mute_id and m["reason"] == "lab agents" for m in mutes)
        detail = cli.json("compliance", "show", cli.json("compliance", "run")["id"])
        agt = next(f for f in detail["findings"] if f["check_id"] == "NC-AGT-001")
        assert agt["status"] == "muted"
    finally:
        assert cli("compliance", "mute", "delete", mute_id).stdout.strip() == (
            f"deleted mute {mute_id}"
        )
    assert cli.error("compliance", "mute", "delete", mute_id) == f"error: no mute {mute_id}"
    unknown = cli.error(
        "compliance", "mute", "add", "NC-NOPE-9", "--reason", "x", "--expires", "1d"
    )
    assert "no compliance check NC-NOPE-9" in unknown
    bad_time = cli.error(
        "compliance", "mute", "add", "NC-AGT-001", "--reason", "x", "--expires", "soon"
    )
    assert bad_time.startswith("error: --expires: 'soon' is not a time")


def test_checks_and_access(live: Cluster) -> None:
    cli = CLI(live.url, live.token)
    checks = cli.json("compliance", "checks")
    assert len(checks) == 15 and checks[0]["frameworks"]
    assert "NC-HST-003" in cli("compliance", "checks").stdout
    viewer = user_token(live.url, live.token, unique("viewer"), {"proj-default": "viewer"})
    line = CLI(live.url, viewer).error("compliance", "runs")
    assert line.startswith("error: ") and "may not read platform" in line
