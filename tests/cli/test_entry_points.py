"""The real entry points, as a shell or a cron job starts them: most CLI tests run the
click commands in-process, so these check that what reaches the shell is the same
(exit codes through ``sys.exit``, the shims' ``prog_name``, stdout and stderr apart)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run

pytestmark = pytest.mark.process

SCRIPTS = ["nija", "safe_restore_trading.py", "emergency_kill_switch.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_exits_0_and_names_the_script(run: Run, script: str) -> None:
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert f"Usage: {script}" in result.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_unknown_command_exits_2_on_stderr(run: Run, script: str) -> None:
    result = run(script, "no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert result.stdout == ""


def test_a_refusal_exits_3_and_a_kill_exits_0_through_the_shims(run: Run, data_dir: Path) -> None:
    assert run("emergency_kill_switch.py", "activate", "drill").returncode == 0
    refused = run("safe_restore_trading.py", "restore", "--yes")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert json.loads((data_dir / ".nija_kill_switch_state.json").read_text())["is_active"] is True


def test_status_json_is_pure_json_on_stdout(run: Run) -> None:
    result = run("nija", "status", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "OFF"


COMMANDS = [
    ("nija", "status", "--json"),
    ("safe_restore_trading.py", "restore", "--yes", "--json"),
    ("emergency_kill_switch.py", "deactivate", "--yes"),
    ("nija", "kill", "status"),
    ("nija", "live", "request"),
]


def timeless(stdout: str) -> object:
    """The output, with the JSON report's own reading time (``checked_at``) left out."""
    if not stdout.startswith("{"):
        return stdout
    report = json.loads(stdout)
    report.pop("checked_at", None)
    return report


def test_in_process_runs_tell_what_a_real_process_tells(run_in: Run, run_process: Run, data_dir: Path) -> None:
    """The in-process harness the other CLI tests use is faithful: the same exit code,
    the same stdout and (timestamps aside) the same stderr, on the same records."""
    assert run_process("emergency_kill_switch.py", "activate", "drill").returncode == 0
    for command in COMMANDS:
        inside, outside = run_in(*command), run_process(*command)
        assert (inside.returncode, timeless(inside.stdout)) == (outside.returncode, timeless(outside.stdout)), command
        assert inside.stderr.splitlines()[:1] == outside.stderr.splitlines()[:1], command
