"""A repeated activation keeps the kill's cause; the files keep the original bot's meaning."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run

KILL = "emergency_kill_switch.py"
RESTORE = "safe_restore_trading.py"
KILL_STATE = ".nija_kill_switch_state.json"
STATE = ".nija_trading_state.json"


def test_activating_an_active_kill_switch_keeps_the_first_cause_everywhere(run: Run, data_dir: Path) -> None:
    assert run(KILL, "activate", "Runaway orders").returncode == 0
    first = json.loads(run(KILL, "status", "--json").stdout)
    again = run(KILL, "activate", "second look")
    assert again.returncode == 0, again.stderr
    assert "already active since" in again.stdout
    assert "Runaway orders" in again.stdout
    status = json.loads(run(KILL, "status", "--json").stdout)
    assert (status["reason"], status["since"], status["actor"]) == (first["reason"], first["since"], first["actor"])
    assert json.loads(run(RESTORE, "status", "--json").stdout)["kill_switch"]["reason"] == "Runaway orders"
    assert json.loads((data_dir / "EMERGENCY_STOP").read_text())["reason"] == "Runaway orders"
    history = json.loads(run(KILL, "history", "--json").stdout)["kill_switch"]
    assert [(k["reason"], k["repeated"]) for k in history] == [("Runaway orders", False), ("second look", True)]
    assert "NOTE" in run(KILL, "history").stdout


def test_deactivation_entries_carry_no_source_so_the_original_bot_reads_them_right(run: Run, data_dir: Path) -> None:
    assert run(KILL, "activate", "drill").returncode == 0
    assert run(KILL, "deactivate", "--yes", "drill over").returncode == 0
    entries = json.loads((data_dir / KILL_STATE).read_text())["history"]
    activation, deactivation = entries
    assert "source" in activation  # the original bot: an entry with a source is an activation
    assert "source" not in deactivation
    assert deactivation["via"] == "cli"
    assert deactivation["action"] == "deactivate"
    # NIJA reads its own and the original's entries the same way.
    history = json.loads(run(KILL, "history", "--json").stdout)["kill_switch"]
    assert [(k["action"], k["source"]) for k in history] == [("activate", "cli"), ("deactivate", "cli")]


def test_an_original_entry_without_action_means_what_the_original_bot_meant(run: Run, data_dir: Path) -> None:
    (data_dir / KILL_STATE).write_text(
        json.dumps(
            {
                "is_active": False,
                "history": [
                    {"reason": "Manual activation", "timestamp": "2026-02-17T20:00:00", "source": "dashboard"},
                    {"reason": "Manual deactivation", "timestamp": "2026-02-17T21:00:00"},
                ],
                "last_updated": "2026-02-17T21:00:00",
            }
        )
    )
    history = json.loads(run(KILL, "history", "--json").stdout)["kill_switch"]
    assert [k["action"] for k in history] == ["activate", "deactivate"]


def test_keys_nija_does_not_know_are_kept_when_a_file_is_rewritten(run: Run, data_dir: Path) -> None:
    (data_dir / STATE).write_text(
        json.dumps(
            {
                "current_state": "OFF",
                "history": [
                    {"from": "DRY_RUN", "to": "OFF", "reason": "x", "timestamp": "2026-02-17T22:00:00", "ticket": "T-1"}
                ],
                "last_updated": "2026-02-17T22:00:00",
                "version": 3,
                "desk": {"owner": "risk"},
            }
        )
    )
    (data_dir / KILL_STATE).write_text(
        json.dumps(
            {
                "is_active": False,
                "history": [
                    {"reason": "old", "timestamp": "2026-02-17T20:00:00", "source": "dashboard", "pager": 7},
                ],
                "last_updated": "2026-02-17T20:00:00",
                "bot_id": "nija-1",
            }
        )
    )
    assert run(KILL, "activate", "drill").returncode == 0
    assert run(KILL, "deactivate", "--yes", "done").returncode == 0
    assert run(RESTORE, "restore", "--yes").returncode == 0
    state = json.loads((data_dir / STATE).read_text())
    assert state["version"] == 3
    assert state["desk"] == {"owner": "risk"}
    assert state["history"][0]["ticket"] == "T-1"
    assert state["current_state"] == "DRY_RUN"
    kill = json.loads((data_dir / KILL_STATE).read_text())
    assert kill["bot_id"] == "nija-1"
    assert kill["history"][0]["pager"] == 7
    assert len(kill["history"]) == 3
