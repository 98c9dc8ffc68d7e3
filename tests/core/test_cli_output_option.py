"""``--output json`` works after the sub-command as well as before it."""

from __future__ import annotations

import pytest

from novacron.cli import app
from novacron.core.cli_support import run_app
from novacron.core.cli_support.entry import hoist_output_option


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["vm", "list", "--output", "json"], ["--output", "json", "vm", "list"]),
        (["vm", "list", "-o", "table"], ["--output", "table", "vm", "list"]),
        (
            ["corporate", "targets", "list", "--output=json"],
            ["--output", "json", "corporate", "targets", "list"],
        ),
        (["-o", "json", "vm", "list"], ["--output", "json", "vm", "list"]),
        # Not a format: an option of the command (a file name), left where it is.
        (["export", "--output", "model.xlsx"], ["export", "--output", "model.xlsx"]),
        # After `--` every word is positional.
        (["calc", "irr", "--", "-o", "json"], ["calc", "irr", "--", "-o", "json"]),
        (["vm", "list"], ["vm", "list"]),
    ],
)
def test_hoist_output_option(argv: list[str], expected: list[str]) -> None:
    assert hoist_output_option(argv) == expected


def test_trailing_output_json_reaches_the_root_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_app(app, ["--url", "http://127.0.0.1:9", "--token", "t", "vm", "list", "-o", "json"])
    # Unhoisted, `-o` after `vm list` is a usage error (exit 2, "no such option"); hoisted,
    # the command runs and fails on the unreachable server (exit 1).
    err = capsys.readouterr().err
    assert exit_info.value.code == 1, err
    assert err.startswith("error: ") and "no such option" not in err
