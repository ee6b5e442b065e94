"""The original bot's callers, run as real processes against a data directory, with NIJA's
modules in place of its own: state reads, transitions, kills and history agree with NIJA's
CLI in both directions, and every unsafe path of the original is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nija.assembly import build_service
from tests.conftest import REPO, Run, cli_env
from tests.runtime.runtime_helpers import wait_for
from tests.runtime.test_kill_without_disk import (  # noqa: F401
    TMPFS_KILL_CHANNEL,
    _mount,
    _mount_point,
    bot_fs,
    kill_activate,
)

CALLER = Path(__file__).with_name("original_caller.py")


def caller(data_dir: Path, scenario: str, *args: str, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(CALLER), scenario, *args],
        capture_output=True,
        text=True,
        env=cli_env(NIJA_DATA_DIR=str(data_dir), **env),
        cwd=data_dir,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def start_caller(data_dir: Path, scenario: str, *args: str) -> tuple[subprocess.Popen[str], Path]:
    ready = data_dir.parent / f"{scenario}.ready"
    proc = subprocess.Popen(
        [sys.executable, str(CALLER), scenario, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(NIJA_DATA_DIR=str(data_dir), CALLER_READY_FILE=str(ready)),
        cwd=data_dir,
    )
    return proc, ready


def finish(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def nija_status(run: Run, data_dir: Path) -> dict[str, Any]:
    done = run("nija", "status", "--json", "--data-dir", str(data_dir))
    assert done.returncode in (0, 5), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_fresh_directory_reads_off_with_the_original_keys(data_dir: Path) -> None:
    result = caller(data_dir, "status")
    assert result["state"] == "OFF"
    assert result["kill_active"] is False
    assert result["status"] == {
        "is_active": False,
        "kill_file_exists": False,
        "kill_file_path": str((data_dir / "EMERGENCY_STOP").resolve()),
        "recent_history": [],
    }
    assert set(result["summary"]) >= {
        "current_state",
        "is_trading_allowed",
        "is_live_trading_active",
        "is_dry_run_mode",
        "is_emergency_stopped",
        "can_make_broker_calls",
        "recent_history",
    }
    assert not result["trading_allowed"]
    assert not result["broker_calls"]
    assert not (data_dir / ".nija_trading_state.json").exists()  # reading writes nothing


def test_a_transition_through_compat_is_read_by_the_cli_with_its_reason(data_dir: Path, run: Run) -> None:
    assert caller(data_dir, "transition", "DRY_RUN", "Testing dry run mode") == {"ok": True, "state": "DRY_RUN"}
    status = nija_status(run, data_dir)
    assert status["state"] == "DRY_RUN"
    assert status["mode"] == "simulated"
    last = status["recent_history"][-1]
    assert (last["from"], last["to"], last["reason"]) == ("OFF", "DRY_RUN", "Testing dry run mode")
    doc = json.loads((data_dir / ".nija_trading_state.json").read_text())
    assert doc["current_state"] == "DRY_RUN"
    assert {"from", "to", "reason", "timestamp"} <= set(doc["history"][-1])
    assert "last_updated" in doc
    # The table: DRY_RUN -> DRY_RUN is "already there", DRY_RUN -> OFF is allowed.
    assert caller(data_dir, "transition", "DRY_RUN", "again") == {"ok": True, "state": "DRY_RUN"}
    assert caller(data_dir, "transition", "OFF", "done testing") == {"ok": True, "state": "OFF"}
    result = caller(data_dir, "status")
    assert result["history"] == ["OFF -> DRY_RUN: Testing dry run mode", "DRY_RUN -> OFF: done testing"]


def test_the_cli_restore_is_read_by_compat(data_dir: Path, run: Run) -> None:
    assert run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir)).returncode == 0
    result = caller(data_dir, "status")
    assert result["state"] == "DRY_RUN"
    assert result["dry_run"] is True
    assert result["trading_allowed"] is True
    assert result["broker_calls"] is False  # simulation never makes broker calls
    assert result["history"] == ["OFF -> DRY_RUN: Safe recovery: Enabling simulation mode"]


def test_a_kill_from_the_cli_is_seen_by_the_compat_api(data_dir: Path, run: Run) -> None:
    run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir))
    done = run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "exchange outage")
    assert done.returncode == 0, done.stderr
    result = caller(data_dir, "status")
    assert result["kill_active"] is True
    assert result["state"] == "EMERGENCY_STOP"
    assert result["emergency"] is True
    assert result["can_trade"] is False
    assert result["status"]["is_active"] is True
    assert result["status"]["kill_file_exists"] is True
    (event,) = result["status"]["recent_history"]
    assert event["reason"] == "exchange outage"
    assert event["source"] == "cli"
    assert result["activation_count"] == 1


def test_a_kill_from_the_compat_api_is_seen_by_the_cli(data_dir: Path, run: Run) -> None:
    run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir))
    assert caller(data_dir, "kill", "Emergency button pressed", "UI") == {
        "kill_active": True,
        "state": "EMERGENCY_STOP",
    }
    done = run("emergency_kill_switch.py", "status", "--json", "--data-dir", str(data_dir))
    kill = json.loads(done.stdout)
    assert kill["active"] is True
    assert (kill["reason"], kill["source"]) == ("Emergency button pressed", "UI")
    assert nija_status(run, data_dir)["state"] == "EMERGENCY_STOP"
    guide = run("safe_restore_trading.py", "status", "--data-dir", str(data_dir)).stdout
    assert "Trading State Machine: EMERGENCY_STOP" in guide
    assert "Kill Switch Active: 🛑 YES" in guide
    assert "via UI: Emergency button pressed" in guide
    doc = json.loads((data_dir / ".nija_kill_switch_state.json").read_text())
    assert doc["is_active"] is True
    assert {"reason", "timestamp"} <= set(doc["history"][-1])
    assert (data_dir / "EMERGENCY_STOP").exists()
    # The CLI refuses to restore while the compat kill stands, and says why.
    refused = run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir))
    assert refused.returncode == 3
    assert "kill switch" in refused.stdout.lower() + refused.stderr.lower()


def test_a_deactivation_through_compat_is_read_by_the_cli_and_the_reverse(data_dir: Path, run: Run) -> None:
    caller(data_dir, "kill", "test kill")
    result = caller(data_dir, "deactivate", "Issue resolved: replaced the API key")
    assert result == {"ok": True, "kill_active": False, "state": "OFF"}
    assert nija_status(run, data_dir)["kill_switch"]["active"] is False
    assert not (data_dir / "EMERGENCY_STOP").exists()
    verified = run("nija", "audit", "verify", "--json", "--data-dir", str(data_dir))
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["records"] >= 2  # the compat kill and its deactivation
    run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "second kill")
    done = run("emergency_kill_switch.py", "deactivate", "--yes", "--data-dir", str(data_dir), "fixed again")
    assert done.returncode == 0, done.stderr
    status = caller(data_dir, "status")
    assert status["kill_active"] is False
    assert status["state"] == "OFF"
    # The original's callers find "the latest activation" as the newest entry with a source.
    history = status["status"]["recent_history"]
    assert [e.get("source") for e in history] == ["UI", None, "cli", None]
    assert history[-1]["action"] == "deactivate"
    assert history[-1]["deactivated_via"] == "cli"
    assert status["activation_count"] == 2


@pytest.mark.process
def test_a_running_caller_is_stopped_by_a_cli_kill(data_dir: Path, run: Run) -> None:
    run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir))
    proc, ready = start_caller(data_dir, "wait_for_kill", "60")
    try:
        wait_for(ready.exists, what="the caller placing orders")
        assert run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "stop now").returncode == 0
        result = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert result["stopped"] is True
    assert "KILL SWITCH IS ACTIVE" in result["error"]
    assert result["placed"] >= 1


def test_a_bare_kill_file_is_recorded_by_the_read_that_stops_a_running_caller(data_dir: Path, run: Run) -> None:
    """``touch EMERGENCY_STOP`` under a running bot loop: the read that stops the loop has
    recorded the kill before it answered, so the file deleted once the bot has stopped (no
    other NIJA process looked in between) deactivates nothing: no window, no lost kill."""
    run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir))
    proc, ready = start_caller(data_dir, "wait_for_kill", "60")
    try:
        wait_for(ready.exists, what="the caller placing orders")
        (data_dir / "EMERGENCY_STOP").touch()
        result = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert result["stopped"] is True
    (data_dir / "EMERGENCY_STOP").unlink()
    status = nija_status(run, data_dir)
    assert status["kill_switch"]["active"] is True
    assert status["state"] == "EMERGENCY_STOP"
    assert caller(data_dir, "status")["status"]["recent_history"][-1]["source"] == "FILE_SYSTEM"


@pytest.mark.process
def test_callbacks_fire_for_own_transitions_and_for_kills_seen_from_other_processes(data_dir: Path, run: Run) -> None:
    proc, ready = start_caller(data_dir, "callbacks", "60")
    try:
        wait_for(ready.exists, what="the caller's own transition")
        assert run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "remote kill").returncode == 0
        result = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert result["own"] == ["DRY_RUN"]
    assert result["seen_remote"] == ["DRY_RUN", "EMERGENCY_STOP"]
    assert result["all"] == ["DRY_RUN", "EMERGENCY_STOP", "OFF"]  # its own deactivation, at once


def test_every_unsafe_path_of_the_original_is_refused(data_dir: Path) -> None:
    result = caller(data_dir, "transition", "DRY_RUN", "test in simulation")
    assert result["ok"] is True
    r = caller(data_dir, "unsafe")
    for name in ("transition_live_active", "transition_pending", "submit_real_order"):
        assert r[name]["raised"] == "StateTransitionError", name
    for name in (
        "activate_live_trading",
        "force_activate_live",
        "commit_activation_method",
        "maybe_auto_activate",
        "commit_activation_gate",
        "can_execute",
        "release_then_dispatch",
    ):
        assert r[name] == {"returned": False, "raised": None}, name
    assert r["poked_privates_state"]["returned"] == "DRY_RUN"
    assert r["poked_privates_broker_calls"]["returned"] is False
    assert r["poked_table_transition"]["raised"] == "StateTransitionError"
    # While killed: transitions refused (the kill is latched), guarded calls raise RuntimeError.
    assert r["killed_transition_dry_run"]["raised"] == "StateTransitionError"
    assert r["killed_transition_off"]["raised"] == "StateTransitionError"
    for name in ("killed_place_order", "killed_check", "killed_assert", "deactivate_without_reason"):
        assert r[name]["runtime_error"] is True, name
    assert r["deactivate_blank_reason"]["runtime_error"] is True
    assert r["final"]["kill_active"] is True
    assert r["final"]["state"] == "EMERGENCY_STOP"
    doc = json.loads((data_dir / ".nija_trading_state.json").read_text())
    visited = {e["to"] for e in doc["history"]} | {doc["current_state"]}
    assert not visited & {"LIVE_ACTIVE", "LIVE_PENDING_CONFIRMATION"}


def test_refused_transitions_name_the_confirmation_flow_and_write_nothing(data_dir: Path) -> None:
    caller(data_dir, "transition", "DRY_RUN", "simulate")
    before = (data_dir / ".nija_trading_state.json").read_bytes()
    result = caller(data_dir, "transition", "LIVE_ACTIVE", "User confirmed risk")
    assert result["ok"] is False
    assert result["code"] == "LIVE_FLOW_REQUIRED"
    assert "nija live request" in result["error"]
    assert "confirm" in result["error"]
    assert (data_dir / ".nija_trading_state.json").read_bytes() == before


def test_deactivating_without_a_reason_writes_nothing(data_dir: Path) -> None:
    caller(data_dir, "kill", "test kill")
    files = {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()}
    result = caller(data_dir, "deactivate")
    assert result["ok"] is False
    assert result["kill_active"] is True
    assert "needs a reason" in result["error"]
    assert {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()} == files


FORCING_ENV = {
    "DRY_RUN_MODE": "true",
    "LIVE_CAPITAL_VERIFIED": "true",
    "AUTO_ACTIVATE": "true",
    "FORCE_LIVE_TRANSITION": "true",
    "FORCE_TRADE": "true",
    "FORCE_TRADE_MODE": "true",
    "HEARTBEAT_TRADE": "true",
    "NIJA_FORCE_ACTIVATION": "true",
}


def test_no_environment_variable_changes_the_state_at_import_or_start(data_dir: Path) -> None:
    result = caller(data_dir, "status", **FORCING_ENV)
    assert result["state"] == "OFF"
    assert result["live"] is False
    assert result["broker_calls"] is False
    assert not (data_dir / ".nija_trading_state.json").exists()
    caller(data_dir, "transition", "DRY_RUN", "simulate")
    result = caller(data_dir, "status", **FORCING_ENV)
    assert result["state"] == "DRY_RUN"
    assert result["live"] is False


def test_the_kill_survives_a_restart_and_the_deletion_of_the_kill_file(data_dir: Path) -> None:
    caller(data_dir, "kill", "latched test kill")
    (data_dir / "EMERGENCY_STOP").unlink()  # the original restarted with the kill cleared
    result = caller(data_dir, "status")
    assert result["kill_active"] is True
    assert result["state"] == "EMERGENCY_STOP"
    assert caller(data_dir, "transition", "OFF", "restart cleared it")["code"] == "KILL_SWITCH_ACTIVE"


def test_a_bare_kill_file_is_recorded_by_a_polling_caller(data_dir: Path, run: Run) -> None:
    run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir))
    (data_dir / "EMERGENCY_STOP").touch()
    assert caller(data_dir, "wait_for_kill", "60", CALLER_READY_FILE=str(data_dir.parent / "r"))["placed"] == 0
    result = caller(data_dir, "poll_kill", "30")  # the file is recorded on sight
    assert result["kill_active"] is True
    (event,) = result["status"]["recent_history"]
    assert event["source"] == "FILE_SYSTEM"
    (data_dir / "EMERGENCY_STOP").unlink()
    assert caller(data_dir, "status")["kill_active"] is True  # recorded: deleting the file deactivates nothing


def test_an_automatic_trigger_raises_the_latched_kill(data_dir: Path, run: Run) -> None:
    run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(data_dir))
    result = caller(data_dir, "auto_trigger")
    assert (result["first"], result["small"], result["big"]) == (False, False, True)
    assert result["kill_active"] is True
    assert result["state"] == "EMERGENCY_STOP"
    event = result["status"]["recent_history"][-1]
    assert event["source"] == "AUTO_TRIGGER"
    assert event["reason"].startswith("Daily loss limit exceeded: -4.00%")


def test_both_import_names_share_one_module_and_the_default_location(data_dir: Path) -> None:
    result = caller(data_dir, "identity")
    assert result["same_kill_module"]
    assert result["same_state_module"]
    assert result["same_singleton"]
    assert result["kill_file_path"] == str((data_dir / "EMERGENCY_STOP").resolve())


def test_without_nija_data_dir_the_data_directory_is_the_project_root(tmp_path: Path) -> None:
    """As the original: the files live in the parent of ``bot/``, wherever the bot runs from."""
    project = tmp_path / "original-bot"
    (project / "bot").mkdir(parents=True)
    for name in ("kill_switch.py", "trading_state_machine.py"):
        (project / "bot" / name).write_bytes((REPO / "bot" / name).read_bytes())
    (project / "bot" / "__init__.py").write_text("# the operator's own package\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    program = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from bot.trading_state_machine import get_state_machine, TradingState\n"
        "get_state_machine().transition_to(TradingState.DRY_RUN, 'from the project')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(project)],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=elsewhere,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads((project / ".nija_trading_state.json").read_text())
    assert doc["current_state"] == "DRY_RUN"
    assert not list(elsewhere.iterdir())


def test_every_public_name_of_the_original_is_provided_with_its_signature(data_dir: Path) -> None:
    names = caller(data_dir, "names")
    missing = [name for name, signature in names.items() if signature is None]
    assert missing == []
    assert names["KillSwitch"] == "(base_path: 'str | os.PathLike[str] | None' = None) -> 'None'"
    assert names["KillSwitch.activate"] == "(self, reason: 'str', source: 'str' = 'MANUAL') -> 'None'"
    assert names["KillSwitch.assert_not_active"] == "(self, operation: 'str' = 'operation') -> 'None'"
    assert names["TradingStateMachine.transition_to"].startswith("(self, new_state:")
    assert "reason: 'str' = ''" in names["TradingStateMachine.transition_to"]
    assert names["TradingStateMachine.get_state_history"] == "(self, limit: 'int' = 10) -> 'list[dict[str, Any]]'"
    assert names["get_auto_trigger"] == (
        "(max_daily_loss_pct: 'float' = 3.0, max_consecutive_losses: 'int' = 5, "
        "enable_auto_trigger: 'bool' = True) -> 'KillSwitchAutoTrigger'"
    )
    assert names["TradingState"] == ["OFF", "DRY_RUN", "LIVE_PENDING_CONFIRMATION", "LIVE_ACTIVE", "EMERGENCY_STOP"]


def test_the_originals_deadlock_patterns_complete_with_reader_threads_running(data_dir: Path) -> None:
    result = caller(data_dir, "threads")  # a hang fails on the 60 s process timeout
    # Every state entered fires its callbacks exactly once. A callback may run in the reader
    # thread that saw the state first, so its place in the list, and what it reads (the next
    # round may have begun), depend on scheduling: only the counts are the rule.
    fired = Counter(entry.split(" ")[0] for entry in result["seen"])
    assert fired == {"ES": 5, "OFF": 5}, result["seen"]
    assert result["all_read"] is True
    assert result["alive"] == [False] * 8
    assert result["kill_active"] is False
    assert result["state"] == "OFF"
    assert result["activation_count"] == 5


@TMPFS_KILL_CHANNEL
def test_a_kill_the_disk_cannot_take_stops_a_running_original_bot(bot_fs: Path, tmp_path: Path, run: Run) -> None:  # noqa: F811
    """The original bot is a bot run: ``kill activate`` on a read-only view of its data
    directory tells it directly, and every check refuses from then on. (The caller runs in
    DRY_RUN until it reads EMERGENCY_STOP, then reports what it can still do.)"""
    run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(bot_fs))
    proc, ready = start_caller(bot_fs, "simulate_until_stopped", "50")
    view = _mount_point(tmp_path, "ro")
    try:
        wait_for(ready.exists, what="the caller placing orders")
        assert _mount("--bind", str(bot_fs), str(view))
        assert _mount("-o", "remount,bind,ro", str(view))
        result = kill_activate(view, "disk is read-only")
        assert result.returncode == 4, result.stdout + result.stderr
        # The run records the kill it was sent at once (its own path is writable), so the
        # CLI may find it on disk before it words its message: in force either way.
        assert f"Trading is stopped in pid {proc.pid}" in result.stderr or "kill switch IS ACTIVE" in result.stderr
        stopped = finish(proc)
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert stopped["state"] == "EMERGENCY_STOP"
    assert stopped["summary"]["permission"]["code"] == "KILL_SWITCH_ACTIVE"
    assert stopped["submit_real_order"]["raised"] == "StateTransitionError"
    # Only the run, told directly, can have written this kill (the CLI could not). It writes
    # it after the moment it first read EMERGENCY_STOP (that reading is in memory): look on disk.
    wait_for(lambda: bool(build_service(bot_fs).history()[1]), timeout=30, what="the kill recorded by the run")
    assert build_service(bot_fs).history()[1][-1].reason == "disk is read-only"
