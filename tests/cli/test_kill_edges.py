"""The kill switch must stop trading whatever else is wrong, and accept the flags that
scripts written for the original tool pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run

KILL_STATE = ".nija_kill_switch_state.json"


@pytest.mark.parametrize(
    "toml",
    ['[live]\nmin_dry_run_minutes = "soon"\n', "this is = = not toml\n", "[no_such_section]\nx = 1\n"],
    ids=["bad_value", "bad_syntax", "unknown_key"],
)
def test_when_nija_toml_is_invalid_then_activate_still_stops_trading_and_warns(
    run: Run, data_dir: Path, toml: str
) -> None:
    (data_dir / "nija.toml").write_text(toml)
    result = run("emergency_kill_switch.py", "activate", "config broken")
    assert result.returncode == 0, result.stderr
    assert (data_dir / "EMERGENCY_STOP").exists()
    assert "nija.toml" in result.stderr
    assert "default settings" in result.stderr
    status = run("emergency_kill_switch.py", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["active"] is True
    assert "nija.toml" in status.stderr
    # Diagnosis carries on (with the warning); live trading refuses the broken file (exit 2).
    diagnosis = run("safe_restore_trading.py", "status")
    assert diagnosis.returncode == 0, diagnosis.stderr
    assert "EMERGENCY_STOP" in diagnosis.stdout  # the kill is reported, not hidden
    assert "nija.toml" in diagnosis.stderr
    assert run("nija", "live", "request").returncode == 2


def test_when_nija_toml_is_valid_then_activate_does_not_warn(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 5\n")
    result = run("emergency_kill_switch.py", "activate", "drill")
    assert result.returncode == 0
    assert result.stderr == ""


@pytest.mark.parametrize("flag", ["--force", "--yes"])
def test_activate_accepts_force_and_yes_as_no_ops(run: Run, data_dir: Path, flag: str) -> None:
    result = run("emergency_kill_switch.py", "activate", flag, "scripted", "stop")
    assert result.returncode == 0, result.stderr
    status = json.loads(run("emergency_kill_switch.py", "status", "--json").stdout)
    assert status["active"] is True
    assert status["reason"] == "scripted stop"  # the flag is not part of the reason
