"""NIJA's rules where the original was unsafe, with the original bot's callers in real
processes: the restart rule, a hand-edited live file, the original's own files, the fleet
store, a kill through the compat API reaching ``nija run``, and an unwritable disk."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from nija.compat.trading_state_machine import TradingState, TradingStateMachine
from nija.domain.live import LivePolicy
from nija.domain.records import Heartbeat
from nija.domain.transitions import Who
from nija.service import SafetyService, system_clock
from nija.store import JsonFileStore
from nija.store.postgres.testing import temporary_database
from nija.testing import HeartbeatBot
from tests.cli.test_bad_files import small_fs  # noqa: F401 - a fixture: a real tmpfs
from tests.compat.test_original_callers import caller, finish, start_caller
from tests.conftest import Run
from tests.runtime.live_process import go_live
from tests.runtime.runtime_helpers import wait_for
from tests.runtime.test_kill_process import RESTING, open_orders, start_bot
from tests.serving import make_token, serving

ALICE = Who("alice@host", "cli")
STATE = ".nija_trading_state.json"
HEARTBEAT = ".nija_heartbeat.json"


def confirmed_live(data_dir: Path, *, keep_running: bool = False) -> HeartbeatBot:
    """LIVE_ACTIVE by NIJA's own flow: request, then confirm with the code and the phrase."""
    service = SafetyService(JsonFileStore(data_dir), policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(ALICE)
    bot = HeartbeatBot(service.store, system_clock)  # live is granted to a running bot's run ...
    request = service.request_live(ALICE, credentials_configured=True)
    bot.step()  # ... which acknowledges the request
    service.confirm_live(request.code, service.policy.phrase, ALICE)
    bot.step()
    if not keep_running:
        bot.stop()  # that bot has gone: its confirmation is nobody else's
    assert service.snapshot().state == "LIVE_ACTIVE"
    return bot


def beat(data_dir: Path, *, stopped: bool = False) -> None:
    """A running bot's fresh heartbeat (``nija run`` writes these)."""
    now = datetime.now(UTC)
    JsonFileStore(data_dir).beat(Heartbeat(os.getpid(), socket.gethostname(), now, now, stopped=stopped))


def test_a_restart_never_resumes_live_trading(data_dir: Path) -> None:
    confirmed_live(data_dir)
    beat(data_dir, stopped=True)  # the bot that went live has stopped
    result = caller(data_dir, "live_order")
    assert result["state"] == "OFF"
    assert result["live"] is False
    assert result["submit_real_order"]["raised"] == "StateTransitionError"
    assert result["activate_live_trading"] == {"returned": False, "raised": None}
    assert (
        result["history"][-1]
        == "LIVE_ACTIVE -> OFF: Bot restart: a restart never resumes live trading (was LIVE_ACTIVE)"
    )


def test_live_confirmed_by_nija_reaches_a_running_original_bot(data_dir: Path) -> None:
    """The original bot is the store's bot run: the request names its run, it acknowledges
    the request in its heartbeat, and only then can the confirmation be given and verified."""
    proc, ready = start_caller(data_dir, "wait_for_live", "60")
    try:
        wait_for(ready.exists, what="the original bot running")
        SafetyService(JsonFileStore(data_dir)).restore(ALICE)
        go_live(data_dir)  # the operator: nija live request (for the running bot's run), confirm
        beat_doc = json.loads((data_dir / HEARTBEAT).read_text())
        result = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert result["state"] == "LIVE_ACTIVE"
    assert result["broker_calls"] is True, result["summary"]["permission"]
    assert beat_doc["pid"] == proc.pid  # the original bot's own run was granted live, no stand-in
    assert result["submit_real_order"] == {"returned": "REAL order BTC-USD", "raised": None}
    assert result["activate_live_trading"] == {"returned": True, "raised": None}
    assert result["transition_live_active"] == {"returned": True, "raised": None}
    assert result["simulate_order"]["raised"] == "StateTransitionError"
    # A kill from the compat API ends it at once, for every process.
    assert caller(data_dir, "kill", "stop the live bot")["state"] == "EMERGENCY_STOP"
    assert caller(data_dir, "live_order")["submit_real_order"]["raised"] == "StateTransitionError"


def test_the_live_trading_of_a_running_nija_bot_is_not_another_process_s(data_dir: Path) -> None:
    bot = confirmed_live(data_dir, keep_running=True)
    bot.step()  # `nija run` went live and is running: its confirmation is not ours
    result = caller(data_dir, "live_order")
    assert result["state"] == "LIVE_ACTIVE"  # the truth, for display
    assert result["broker_calls"] is False
    assert result["live"] is False
    assert result["submit_real_order"]["raised"] == "StateTransitionError"
    assert result["activate_live_trading"] == {"returned": False, "raised": None}
    assert result["transition_live_active"]["raised"] == "StateTransitionError"  # "already live" is not ours
    assert result["summary"]["permission"]["code"] == "LIVE_OWNED_BY_RUNNING_BOT"


def test_a_live_confirmation_older_than_the_process_is_never_its_own(data_dir: Path) -> None:
    """The live bot dies (its heartbeat goes stale) after another process started: that
    process must not take over the live confirmation (it would resume live trading)."""
    bot = confirmed_live(data_dir, keep_running=True)
    started = threading.Event()

    def live_bot() -> None:  # the live bot's heartbeat, until the other process has started
        while not started.is_set():
            bot.step()
            started.wait(1.0)
        beat(data_dir, stopped=True)

    beating = threading.Thread(target=live_bot)
    beat(data_dir)
    beating.start()
    proc, ready = start_caller(data_dir, "live_after_owner_stops", "60")
    try:
        wait_for(ready.exists, what="the second process started")
        assert ready.read_text() == "LIVE_OWNED_BY_RUNNING_BOT"
    finally:
        started.set()
        beating.join(timeout=30)
    result = finish(proc)
    # The live bot has stopped: no running bot verifies the confirmation any more.
    assert result["summary"]["permission"]["code"] == "LIVE_NOT_VERIFIED"
    assert result["broker_calls"] is False
    assert result["submit_real_order"]["raised"] == "StateTransitionError"
    assert result["activate_live_trading"] == {"returned": False, "raised": None}


@pytest.mark.parametrize("ending", ["crashed", "stopped"])
def test_a_process_that_is_not_the_run_never_trades_live_on_the_runs_confirmation(data_dir: Path, ending: str) -> None:
    """This process started while the original bot ran (so it is a reader); the bot's run is
    confirmed live while both run; then the bot ends: killed (its heartbeat goes stale, not
    stopped) or stopped. The confirmation was the bot's run's, never this process's."""
    SafetyService(JsonFileStore(data_dir)).restore(ALICE)
    proc, ready = start_caller(data_dir, "live_until_killed" if ending == "crashed" else "wait_for_live", "60")
    try:
        wait_for(ready.exists, what="the original bot running")
        machine = TradingStateMachine(data_dir / STATE)  # a reader: the other process is the run
        go_live(data_dir)
        wait_for(
            lambda: bool((hb := JsonFileStore(data_dir).load().heartbeat) and hb.live_nonce), what="it trades live"
        )
        assert machine.is_live_trading_active() is False  # while it runs, its live is its own
        if ending == "crashed":
            proc.kill()
            proc.communicate(timeout=30)
            last = JsonFileStore(data_dir).load().heartbeat
            assert last is not None
            assert not last.stopped
            # Time passes: its last beat grows old (15 s make it stale).
            JsonFileStore(data_dir).beat(replace(last, last_beat=last.last_beat - timedelta(minutes=5)))
        else:
            finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    summary = machine.get_state_summary()
    assert machine.is_live_trading_active() is False, summary["permission"]
    assert machine.can_make_broker_calls() is False
    assert machine.activate_live_trading() is False
    # Crashed or stopped alike: no running bot verifies the confirmation (read as a stop).
    assert summary["permission"]["code"] == "LIVE_NOT_VERIFIED"
    assert machine.get_current_state() is TradingState.EMERGENCY_STOP


def test_a_hand_edited_live_file_is_never_live(data_dir: Path) -> None:
    (data_dir / STATE).write_text(
        json.dumps(
            {
                "current_state": "LIVE_ACTIVE",
                "history": [{"from": "OFF", "to": "LIVE_ACTIVE", "reason": "auto", "timestamp": "2026-02-17T22:01:15"}],
                "last_updated": "2026-02-17T22:01:15",
            }
        )
    )
    beat(data_dir)  # even with a bot alive (so the restart rule leaves the file alone)
    result = caller(data_dir, "live_order")
    assert result["broker_calls"] is False
    assert result["live"] is False
    assert result["state"] == "EMERGENCY_STOP"  # untrusted live fails closed
    assert result["submit_real_order"]["raised"] == "StateTransitionError"
    assert result["activate_live_trading"] == {"returned": False, "raised": None}


def test_the_original_bots_own_files_are_read(data_dir: Path, run: Run) -> None:
    """The guide's formats as the original wrote them: naive timestamps, a deactivation
    entry without a source, and EMERGENCY_STOP left behind in the state machine."""
    (data_dir / STATE).write_text(
        json.dumps(
            {
                "current_state": "EMERGENCY_STOP",
                "history": [
                    {"from": "OFF", "to": "DRY_RUN", "reason": "Testing", "timestamp": "2026-02-17T20:00:00.000000"},
                    {
                        "from": "DRY_RUN",
                        "to": "EMERGENCY_STOP",
                        "reason": "Kill switch activated: test",
                        "timestamp": "2026-02-17T20:30:00.000000",
                    },
                ],
                "last_updated": "2026-02-17T20:30:00.000000",
            }
        )
    )
    (data_dir / ".nija_kill_switch_state.json").write_text(
        json.dumps(
            {
                "is_active": False,
                "history": [
                    {"reason": "test", "source": "MANUAL", "timestamp": "2026-02-17T20:30:00.000000"},
                    {"reason": "Manual deactivation", "timestamp": "2026-02-17T21:00:00.000000"},
                ],
                "last_updated": "2026-02-17T21:00:00.000000",
            }
        )
    )
    result = caller(data_dir, "status")
    assert result["state"] == "EMERGENCY_STOP"
    assert result["kill_active"] is False
    assert result["activation_count"] == 1
    assert [e.get("source") for e in result["status"]["recent_history"]] == ["MANUAL", None]
    assert result["history"][-1] == "DRY_RUN -> EMERGENCY_STOP: Kill switch activated: test"
    codes = [
        i["code"]
        for i in json.loads(run("nija", "status", "--json", "--data-dir", str(data_dir)).stdout)["inconsistencies"]
    ]
    assert "EMERGENCY_STOP_WITHOUT_KILL" in codes
    # The table: EMERGENCY_STOP leads only to OFF, and only with the kill inactive (it is).
    assert caller(data_dir, "transition", "DRY_RUN", "skip OFF")["code"] == "ILLEGAL_TRANSITION"
    assert caller(data_dir, "transition", "OFF", "Kill switch deactivated earlier") == {"ok": True, "state": "OFF"}
    doc = json.loads((data_dir / STATE).read_text())
    assert [e["reason"] for e in doc["history"]][:2] == ["Testing", "Kill switch activated: test"]


def test_an_original_kill_file_left_behind_is_a_kill(data_dir: Path) -> None:
    (data_dir / "EMERGENCY_STOP").write_text("ALL TRADING OPERATIONS HAVE BEEN HALTED\nReason: drill\n")
    result = caller(data_dir, "status")
    assert result["kill_active"] is True
    assert result["state"] == "EMERGENCY_STOP"


def test_a_kill_through_the_compat_api_stops_nija_run(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(RESTING)
    SafetyService(JsonFileStore(data_dir)).restore(ALICE)
    bot = start_bot(data_dir)
    try:
        wait_for(lambda: open_orders(data_dir) >= 2, what="two open limit orders")
        assert caller(data_dir, "kill", "stop from the original bot", "UI")["kill_active"] is True
        wait_for(lambda: open_orders(data_dir) == 0, timeout=30, what="every order cancelled")
        assert bot.poll() is None  # the bot keeps running, denied
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = bot.communicate(timeout=30)
    assert bot.returncode == 0, err
    summary = json.loads(out)
    assert summary["kill_complete"] is True
    assert summary["denials"]["KILL_SWITCH_ACTIVE"] > 0


@pytest.fixture
def fleet_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


def test_with_the_fleet_store_kills_cross_between_compat_and_the_cli(data_dir: Path, run: Run, fleet_url: str) -> None:
    env = {"NIJA_STORE": fleet_url, "NIJA_BOT": "original-bot"}
    assert caller(data_dir, "transition", "DRY_RUN", "fleet simulation", **env) == {"ok": True, "state": "DRY_RUN"}
    status = json.loads(run("nija", "status", "--json", "--data-dir", str(data_dir), env=env).stdout)
    assert status["state"] == "DRY_RUN"
    assert caller(data_dir, "kill", "bot kill via compat", **env)["kill_active"] is True
    status = json.loads(run("nija", "status", "--json", "--data-dir", str(data_dir), env=env).stdout)
    assert status["kill_switch"]["active"] is True
    assert not (data_dir / "EMERGENCY_STOP").exists()  # the fleet database holds it, not the files
    # The reverse: a fleet-wide kill from the CLI reaches this bot's compat API.
    done = run(
        "nija", "kill", "activate", "--fleet", "fleet drill", "--data-dir", str(data_dir), env={"NIJA_STORE": fleet_url}
    )
    assert done.returncode == 0, done.stderr
    assert caller(data_dir, "deactivate", "bot issue fixed", **env)["kill_active"] is True  # the fleet kill stands
    assert caller(data_dir, "status", **env)["state"] == "EMERGENCY_STOP"


def test_a_kill_that_cannot_be_written_still_stops_the_calling_process(run: Run, small_fs: Path) -> None:  # noqa: F811
    assert run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(small_fs)).returncode == 0
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=False).returncode == 0
    result = caller(small_fs, "unsafe")
    # activate() did not raise (as the original), and this process refuses everything.
    assert result["killed_place_order"]["runtime_error"] is True
    assert result["final"]["kill_active"] is True
    assert result["final"]["state"] == "EMERGENCY_STOP"


def test_kills_cross_between_the_http_api_and_the_compat_api(data_dir: Path) -> None:
    SafetyService(JsonFileStore(data_dir)).restore(ALICE)
    token = make_token(data_dir, "ops", "viewer")
    headers = {"Authorization": f"Bearer {token}"}
    with serving(data_dir) as base:
        killed = httpx.post(
            base + "/api/kill-switch/activate", json={"reason": "api drill"}, headers=headers, timeout=30
        )
        assert killed.status_code == 200, killed.text
        result = caller(data_dir, "status")
        assert result["kill_active"] is True
        assert result["status"]["recent_history"][-1]["reason"] == "api drill"
        assert caller(data_dir, "deactivate", "api drill over")["kill_active"] is False
        assert httpx.get(base + "/api/status", headers=headers, timeout=30).json()["kill_switch"]["active"] is False
        caller(data_dir, "kill", "compat drill", "UI")
        status = httpx.get(base + "/api/status", headers=headers, timeout=30).json()
        assert status["kill_switch"]["active"] is True
        assert status["kill_switch"]["reason"] == "compat drill"
        assert status["state"] == "EMERGENCY_STOP"


def test_a_broken_nija_toml_never_stops_a_stop(data_dir: Path, run: Run) -> None:
    (data_dir / "nija.toml").write_text("[live\nmin_dry_run_minutes = 'soon'\n")
    assert caller(data_dir, "kill", "stop despite a bad config")["kill_active"] is True
    assert nija_status_state(run, data_dir) == "EMERGENCY_STOP"


def nija_status_state(run: Run, data_dir: Path) -> str:
    done = run("nija", "status", "--json", "--data-dir", str(data_dir))
    return str(json.loads(done.stdout)["state"])
