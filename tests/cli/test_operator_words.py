"""The CLI's own words for an operator: LIVE_ACTIVE stands out, no-ops exit 0."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run
from tests.tui.test_alerts_read import live_active_files


def test_status_of_live_active_says_real_money_above_everything(run: Run, data_dir: Path) -> None:
    live_active_files(data_dir)
    result = run("nija", "status")
    assert result.returncode == 5  # LIVE_STATE_WITHOUT_BOT: no bot is running
    assert result.stdout.splitlines()[0] == "!!! REAL MONEY: LIVE_ACTIVE, orders go to the exchange !!!"


def test_status_of_dry_run_has_no_real_money_banner(run: Run) -> None:
    assert run("nija", "restore", "--yes").returncode == 0
    result = run("nija", "status")
    assert result.returncode == 0
    assert "REAL MONEY" not in result.stdout


def test_live_cancel_with_nothing_pending_is_a_no_op_that_exits_0(run: Run, data_dir: Path) -> None:
    assert run("nija", "restore", "--yes").returncode == 0
    before = (data_dir / ".nija_trading_state.json").read_bytes()
    result = run("nija", "live", "cancel")
    assert result.returncode == 0, result.stderr
    assert "No live request is pending (state DRY_RUN): nothing to cancel" in result.stdout
    assert (data_dir / ".nija_trading_state.json").read_bytes() == before  # nothing written

    assert run("emergency_kill_switch.py", "activate", "outage").returncode == 0
    killed = run("nija", "live", "cancel", "--json")
    assert killed.returncode == 0
    assert "the kill switch is active" in killed.stdout  # the truth about the kill, even in a no-op
