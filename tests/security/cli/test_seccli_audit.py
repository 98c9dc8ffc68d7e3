"""``novacron audit list | verify | export`` against a real server, and tampering."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from seccli_helpers import Cli, make_user, unique
from sqlalchemy import create_engine, text

from novacron.cli import main
from novacron.testing.cluster import Cluster


@contextmanager
def tampered(server: Cluster, seq: int) -> Iterator[None]:
    """An attacker with database access rewrites who did it; put back afterwards (the
    server is shared by the folder's tests)."""
    engine = create_engine(server.settings.resolved_database_url)
    update = text("UPDATE audit_log SET actor = :actor WHERE seq = :seq")
    try:
        with engine.begin() as conn:
            original = conn.execute(
                text("SELECT actor FROM audit_log WHERE seq = :seq"), {"seq": seq}
            ).scalar_one()
            conn.execute(update, {"actor": "mallory", "seq": seq})
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.execute(update, {"actor": original, "seq": seq})
    finally:
        engine.dispose()


def test_audit_list_filters(server: Cluster, admin: Cli) -> None:
    name = unique("olga")
    admin("user", "create", name, "--no-password")
    page = admin.json("audit", "list", "--action", "user.create", "--since", "1h")
    mine = [r for r in page["items"] if r["target"] == f"user:{name}"]
    assert len(mine) == 1 and mine[0]["actor"] == "admin" and mine[0]["outcome"] == "success"

    server.api.post("/auth/login", json={"name": name, "password": "no password at all"})
    failures = admin.json("audit", "list", "--actor", name, "--outcome", "failure")["items"]
    assert [r["action"] for r in failures] == ["auth.login"]
    assert admin.json("audit", "list", "--until", "2000-01-01")["items"] == []
    assert "no audit records" in admin("audit", "list", "--until", "2000-01-01").stdout

    table = admin("audit", "list", "--actor", name).stdout
    assert "SEQ" in table and "auth.login" in table and "failure" in table
    two = admin.json("audit", "list", "--limit", "2")
    assert len(two["items"]) == 2 and two["next_after_seq"] == two["items"][-1]["seq"]
    assert (
        f"more: --after-seq {two['next_after_seq']}"
        in admin("audit", "list", "--limit", "2").stdout
    )
    after = admin.json("audit", "list", "--after-seq", str(two["next_after_seq"]), "--limit", "1")
    assert after["items"][0]["seq"] == two["next_after_seq"] + 1

    assert admin.error("audit", "list", "--since", "yesterday").startswith(
        "error: --since: 'yesterday' is not a time"
    )
    line = admin.error("audit", "list", "--outcome", "maybe")
    assert line.startswith("error: invalid request: outcome: Input should be")


def verified_count(out: str) -> int:
    match = re.match(r"audit chain intact: (\d+) records", out)
    assert match, out
    return int(match.group(1))


def test_verify_catches_a_changed_record(server: Cluster, admin: Cli, tmp_path: Path) -> None:
    name = unique("pat")
    make_user(server, name)
    seq = admin.json("audit", "list", "--action", "user.create", "--limit", "1000")["items"]
    seq = next(r["seq"] for r in seq if r["target"] == f"user:{name}")
    db_url = server.settings.resolved_database_url
    sqlite_file = db_url.removeprefix("sqlite:///")

    assert verified_count(admin("audit", "verify").stdout) >= seq
    assert verified_count(admin("audit", "verify", "--database-url", db_url).stdout) >= seq
    assert admin.json("audit", "verify")["ok"] is True

    with tampered(server, seq):
        expected = f"error: audit chain BROKEN at seq {seq}: record content was changed"
        assert admin.error("audit", "verify") == expected
        # Straight from the database (a path to a SQLite file works too), no token needed.
        offline = Cli("http://127.0.0.1:9", None)
        assert offline.error("audit", "verify", "--database-url", db_url) == expected
        assert offline.error("audit", "verify", "--database-url", sqlite_file) == expected
        broken = admin("--output", "json", "audit", "verify", ok=False)
        assert broken.exit_code == 1
        assert json.loads(broken.stdout)["broken_at"] == seq

    assert admin.json("audit", "verify")["ok"] is True  # put back: intact again

    missing = tmp_path / "nope.db"
    assert admin.error("audit", "verify", "--database-url", str(missing)) == (
        f"error: no database file at {missing}"
    )
    empty = tmp_path / "empty.db"
    empty.touch()
    line = admin.error("audit", "verify", "--database-url", str(empty))
    assert line.startswith(
        f"error: cannot read the audit log from sqlite:///{empty}: no such table"
    )


def test_export_parses_back(admin: Cli, tmp_path: Path) -> None:
    records = [json.loads(line) for line in admin("audit", "export").stdout.splitlines()]
    assert len(records) >= 2
    for before, after in itertools.pairwise(records):
        assert after["seq"] == before["seq"] + 1 and after["prev_hash"] == before["hash"]
    rows = list(csv.DictReader(io.StringIO(admin("audit", "export", "--format", "csv").stdout)))
    assert [int(r["seq"]) for r in rows[: len(records)]] == [r["seq"] for r in records]
    assert rows[0]["hash"] == records[0]["hash"]
    assert json.loads(rows[0]["detail"]) == records[0]["detail"]

    out = tmp_path / "audit.csv"
    said = admin("audit", "export", "--format", "csv", "--since", "1d", "--out", str(out)).stdout
    written = list(csv.DictReader(out.open(newline="")))
    assert said.strip() == f"exported {len(written)} audit records to {out}"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    summary = admin.json("audit", "export", "--out", str(tmp_path / "a.jsonl"))
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert summary == {"path": str(tmp_path / "a.jsonl"), "format": "json", "records": len(lines)}
    assert admin("audit", "export", "--until", "2000-01-01").stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["audit", "export", "--format", "xml"], 2, "error: invalid value for '--format'"),
        (["audit", "list", "--since", "soon"], 1, "error: --since: 'soon' is not a time"),
        (["project", "update", "p", "--vms", "lots"], 1, "error: --vms: 'lots' is not a count"),
        (["user", "create", "x", "--password-stdin", "--no-password"], 1, "error: --password"),
        (["token", "create"], 2, "error: missing option '--name'"),
    ],
)
def test_bad_input_through_the_console_script(
    server: Cluster,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    expected: str,
) -> None:
    """What a user at a terminal sees: one line, no traceback, a non-zero exit."""
    with pytest.raises(SystemExit) as info:
        main(["--url", server.url, "--token", server.token, *args])
    assert info.value.code == code
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(expected), captured.err
    assert "Traceback" not in captured.out + captured.err
