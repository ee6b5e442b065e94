"""``--snapshot``: one plain frame for scripts and cron, from real processes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nija.bot_report import BotReport, Notice, OpenOrder, Pnl, Position, write_report
from nija.domain.records import Heartbeat
from nija.store.json_files import JsonFileStore
from tests.conftest import Run

GUIDE_STATE = {  # the guide's own example files: stopped, but the kill switch is off
    ".nija_trading_state.json": {
        "current_state": "EMERGENCY_STOP",
        "history": [
            {"from": "OFF", "to": "EMERGENCY_STOP", "reason": "Kill switch", "timestamp": "2026-02-17T20:00:00.000000"}
        ],
        "last_updated": "2026-02-17T20:00:00.000000",
    },
    ".nija_kill_switch_state.json": {
        "is_active": False,
        "history": [{"reason": "Manual deactivation", "timestamp": "2026-02-17T21:00:00.000000"}],
        "last_updated": "2026-02-17T21:00:00.000000",
    },
}


def snapshot(run: Run, data_dir: Path, script: str = "nija_control_center.py") -> tuple[int, str, str]:
    args = ("monitor",) if script == "nija" else ()
    result = run(script, *args, "--data-dir", str(data_dir), "--snapshot")
    return result.returncode, result.stdout, result.stderr


def assert_fits_80x24(text: str) -> None:
    lines = text.splitlines()
    assert len(lines) <= 24, text
    assert max(len(line) for line in lines) <= 80, text
    assert not re.search(r"\x1b\[", text), "no colour codes"


def test_snapshot_after_a_kill_shows_the_guides_lines_in_80x24(run: Run, data_dir: Path) -> None:
    killed = run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "exchange outage")
    assert killed.returncode == 0, killed.stderr

    code, out, err = snapshot(run, data_dir)

    assert code == 0, err
    assert "Trading State Machine: EMERGENCY_STOP" in out
    assert "Kill Switch Active: YES since " in out
    assert "Reason: exchange outage" in out
    assert "Kill File Exists: True" in out
    assert "Can Trade: NO (the kill switch is active)" in out
    assert "Bot: not running (no heartbeat)" in out
    assert "No bot is running here" in out
    assert_fits_80x24(out)


def test_nija_monitor_snapshot_of_a_fresh_directory_says_off_and_no_kill(run: Run, data_dir: Path) -> None:
    code, out, err = snapshot(run, data_dir, "nija")
    assert code == 0, err
    assert "Trading State Machine: OFF" in out
    assert "Kill Switch Active: NO" in out
    assert "Kill File Exists: False" in out
    assert "Can Trade: NO (OFF places no orders)" in out


def test_snapshot_of_the_guides_inconsistency_exits_5_with_the_fix(run: Run, data_dir: Path) -> None:
    for name, body in GUIDE_STATE.items():
        (data_dir / name).write_text(json.dumps(body))

    code, out, _ = snapshot(run, data_dir)

    assert code == 5
    assert "Trading State Machine: EMERGENCY_STOP" in out
    assert "Kill Switch Active: NO" in out
    assert "STATE INCONSISTENCY: EMERGENCY_STOP_WITHOUT_KILL" in out
    assert "Fix: Run 'python safe_restore_trading.py restore'" in out
    assert_fits_80x24(out)


def test_snapshot_shows_the_running_bots_orders_positions_and_denials(run: Run, data_dir: Path) -> None:
    run("safe_restore_trading.py", "restore", "--data-dir", str(data_dir), "--yes")
    write_report(
        data_dir,
        BotReport(
            updated_at="2026-11-24T10:00:00+00:00",
            mode="simulated",
            broker="paper",
            open_orders=(OpenOrder(id="o1", symbol="BTC/USDT", side="buy", type="limit", quantity=0.5, price=30000),),
            positions=(Position(symbol="ETH/USDT", quantity=2, average_price=1500, unrealized_pnl=12.5),),
            pnl=Pnl(cash=1000, equity=4012.5, realized=-3.25, unrealized=12.5, fees=1.5),
            denials=(Notice(timestamp="2026-11-24T09:59:00+00:00", code="MAX_POSITION", message="too big"),),
        ),
    )

    code, out, err = snapshot(run, data_dir)

    assert code == 0, err
    assert "Can Trade: YES: simulated (DRY_RUN, no capital at risk)" in out
    assert "Bot report (simulated, paper)" in out
    assert "Open orders: 1" in out
    assert "buy 0.5 BTC/USDT limit @ 30000" in out
    assert "ETH/USDT 2 @ 1500 P&L +12.50" in out
    assert "realized -3.25" in out
    assert "DENIED MAX_POSITION x1 last 2026-11-24 09:59:00Z: too big" in out
    assert_fits_80x24(out)


def test_a_missing_data_directory_is_a_storage_problem_with_a_fix(run: Run, tmp_path: Path) -> None:
    result = run("nija_control_center.py", "--data-dir", str(tmp_path / "nowhere"), "--snapshot")
    assert result.returncode == 4
    assert "does not exist" in result.stderr
    assert "Fix: Pass --data-dir" in result.stderr


def test_without_a_terminal_the_live_screen_refuses_and_points_to_snapshot(run: Run, data_dir: Path) -> None:
    result = run("nija_control_center.py", "--data-dir", str(data_dir))
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
    assert "--snapshot" in result.stderr


def test_api_mode_needs_a_token_and_excludes_data_dir(run: Run, data_dir: Path) -> None:
    no_token = run("nija_control_center.py", "--api", "http://127.0.0.1:9", "--snapshot")
    assert no_token.returncode == 2
    assert "--api needs a token" in no_token.stderr
    both = run("nija_control_center.py", "--api", "http://x", "--token", "t", "--data-dir", str(data_dir))
    assert both.returncode == 2
    assert "cannot be used together" in both.stderr


def test_an_unreachable_api_is_reported_with_a_fix(run: Run) -> None:
    # Port 9 (discard) is closed here: the connection is refused at once.
    result = run("nija_control_center.py", "--api", "http://127.0.0.1:9", "--token", "t", "--snapshot")
    assert result.returncode == 4
    assert "Cannot reach the control plane at http://127.0.0.1:9" in result.stderr
    assert "Check the --api URL" in result.stderr


def test_snapshot_tells_a_live_bot_from_a_silent_one(run: Run, data_dir: Path) -> None:
    store = JsonFileStore(data_dir)
    now = datetime.now(UTC)
    store.beat(Heartbeat(pid=4242, host="bot-host", last_beat=now, started_at=now))
    code, out, err = snapshot(run, data_dir)
    assert code == 0, err
    assert "Bot: alive (pid 4242 on bot-host, last heartbeat" in out

    old = now - timedelta(minutes=10)
    store.beat(Heartbeat(pid=4242, host="bot-host", last_beat=old, started_at=old))
    code, out, err = snapshot(run, data_dir)
    assert code == 0, err
    assert "Bot: NOT RUNNING (last heartbeat 6" in out  # 600 s and a little more
    assert "pid 4242 on bot-host" in out


def test_snapshot_of_a_corrupt_state_file_fails_closed_and_exits_5(run: Run, data_dir: Path) -> None:
    (data_dir / ".nija_trading_state.json").write_text('{"current_state": "LIVE_ACT')  # truncated

    code, out, _ = snapshot(run, data_dir)

    assert code == 5
    assert "Trading State Machine: EMERGENCY_STOP" in out
    assert "Kill Switch Active: YES" in out
    assert "Can Trade: NO" in out
    assert "STATE INCONSISTENCY: STATE_FILE_CORRUPT" in out
    assert_fits_80x24(out)


def test_snapshot_json_carries_the_status_view_and_the_runtime(run: Run, data_dir: Path) -> None:
    run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "exchange outage")
    result = run("nija_control_center.py", "--data-dir", str(data_dir), "--snapshot", "--json")
    assert result.returncode == 0, result.stderr
    frame = json.loads(result.stdout)
    assert frame["status"]["state"] == "EMERGENCY_STOP"
    assert frame["status"]["kill_switch"]["active"] is True
    assert frame["status"]["kill_switch"]["reason"] == "exchange outage"
    assert frame["status"]["recent_history"][-1]["from"] == "OFF"
    assert frame["runtime"] is None


def test_a_stopped_bots_report_is_shown_as_stopped_not_as_current(run: Run, data_dir: Path) -> None:
    now = datetime.now(UTC)
    store = JsonFileStore(data_dir)
    store.beat(Heartbeat(4242, "bot-host", now - timedelta(minutes=5), now - timedelta(hours=1), stopped=True))
    write_report(
        data_dir,
        BotReport(
            updated_at=(now - timedelta(minutes=5)).isoformat(),
            mode="simulated",
            broker="paper",
            positions=(Position(symbol="BTC/USDT", quantity=0.5, average_price=100.0),),
        ),
    )
    code, out, err = snapshot(run, data_dir)
    assert code in (0, 5), err
    assert "Bot stopped at" in out
    assert "not current" in out


def test_a_report_that_stopped_updating_is_marked_stale_with_its_age(run: Run, data_dir: Path) -> None:
    now = datetime.now(UTC)
    JsonFileStore(data_dir).beat(Heartbeat(4242, "bot-host", now, now))  # alive, but its report is old
    write_report(
        data_dir, BotReport(updated_at=(now - timedelta(seconds=60)).isoformat(), mode="simulated", broker="paper")
    )
    code, out, err = snapshot(run, data_dir)
    assert code in (0, 5), err
    assert re.search(r"STALE: the bot's report is \d+ s old", out), out
