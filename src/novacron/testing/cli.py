"""Running the user CLI in-process against a test cluster, as a user would."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from novacron.cli import app
from novacron.core.cli_support.entry import hoist_output_option


def lines_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


class CLI:
    """``novacron --url … --token … ARGS`` in-process against one server."""

    def __init__(self, url: str, token: str) -> None:
        self.argv = ["--url", url, "--token", token]

    def __call__(self, *args: str, ok: bool = True) -> Result:
        # As the console script does (run_app): a trailing --output moves to the root.
        result = CliRunner().invoke(app, hoist_output_option([*self.argv, *args]))
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self("--output", "json", *args).stdout)

    def error(self, *args: str) -> str:
        """Run a command that must fail; return its one ``error:`` line."""
        result = self(*args, ok=False)
        assert result.exit_code == 1, (args, result.stdout, result.stderr, result.exception)
        lines = lines_of(result.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert "Traceback" not in result.stdout + result.stderr
        return lines[0]


def add_snapshot_record(database_url: str, vm_id: str, name: str, vm_state_bytes: int) -> None:
    """A snapshot as the server records one (for drivers that cannot take any)."""
    from novacron.compute.models import VMSnapshot
    from novacron.core.database import Database
    from novacron.core.ids import new_id

    db = Database(database_url)
    try:
        with db.session() as s:
            s.add(
                VMSnapshot(
                    id=new_id("snap"),
                    vm_id=vm_id,
                    name=name,
                    vm_state_bytes=vm_state_bytes,
                    power_state="running",
                )
            )
    finally:
        db.dispose()
