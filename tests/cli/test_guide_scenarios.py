"""Every scenario and troubleshooting case of the guide, driven through the real commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run

RESTORE = "safe_restore_trading.py"
KILL = "emergency_kill_switch.py"


def state_file(data_dir: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((data_dir / ".nija_trading_state.json").read_text())  # type: ignore[no-any-return]


def status_json(run: Run) -> dict:  # type: ignore[type-arg]
    return json.loads(run(RESTORE, "status", "--json").stdout)  # type: ignore[no-any-return]


def put_in_emergency_stop_with_kill_deactivated(run: Run) -> None:
    assert run(RESTORE, "restore", "--yes").returncode == 0
    assert run(KILL, "activate", "Exchange errors").returncode == 0
    assert run(KILL, "deactivate", "Issue resolved: API key rotated", "--yes").returncode == 0


def test_status_of_a_fresh_directory_is_off_and_consistent(run: Run) -> None:
    result = run(RESTORE, "status")
    assert result.returncode == 0, result.stderr
    for line in (
        "CURRENT STATUS",
        "Trading State Machine: OFF",
        "Kill Switch Active: ✅ NO",
        "Kill File Exists: False",
        "Can Trade: ❌ NO",
    ):
        assert line in result.stdout


def test_guide_example_state_is_diagnosed_with_its_solution(run: Run, data_dir: Path) -> None:
    # The guide's own example: EMERGENCY_STOP while the kill switch is deactivated.
    (data_dir / ".nija_trading_state.json").write_text(
        json.dumps(
            {
                "current_state": "EMERGENCY_STOP",
                "history": [
                    {
                        "from": "DRY_RUN",
                        "to": "EMERGENCY_STOP",
                        "reason": "Kill switch activated",
                        "timestamp": "2026-02-17T21:00:00.000000",
                    }
                ],
                "last_updated": "2026-02-17T21:00:00.000000",
            }
        )
    )
    (data_dir / ".nija_kill_switch_state.json").write_text(
        json.dumps(
            {
                "is_active": False,
                "history": [{"reason": "Manual deactivation", "timestamp": "2026-02-17T21:00:00.000000"}],
                "last_updated": "2026-02-17T21:00:00.000000",
            }
        )
    )
    result = run(RESTORE, "status")
    assert result.returncode == 5
    for line in (
        "Trading State Machine: EMERGENCY_STOP",
        "Kill Switch Active: ✅ NO",
        "Kill File Exists: False",
        "Can Trade: ❌ NO",
        "STATE INCONSISTENCY DETECTED",
        "• State machine is in EMERGENCY_STOP",
        "• But kill switch is DEACTIVATED",
        "• Trading is blocked unnecessarily",
        "💡 Solution: Run 'python safe_restore_trading.py restore'",
    ):
        assert line in result.stdout
    assert [i["code"] for i in status_json(run)["inconsistencies"]] == ["EMERGENCY_STOP_WITHOUT_KILL"]


def test_scenario_1_kill_deactivated_but_trading_wont_resume(run: Run, data_dir: Path) -> None:
    put_in_emergency_stop_with_kill_deactivated(run)
    # deactivation moves EMERGENCY_STOP to OFF, so recreate the guide's stuck state by hand
    doc = state_file(data_dir)
    doc["current_state"] = "EMERGENCY_STOP"
    doc["history"].append(
        {"from": "OFF", "to": "EMERGENCY_STOP", "reason": "old tool", "timestamp": "2026-02-17T21:00:00"}
    )
    (data_dir / ".nija_trading_state.json").write_text(json.dumps(doc))
    assert run(RESTORE, "status").returncode == 5
    restored = run(RESTORE, "restore", "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "EMERGENCY_STOP → OFF → DRY_RUN" in restored.stdout
    after = status_json(run)
    assert after["state"] == "DRY_RUN"
    assert after["can_trade"] is True
    assert after["mode"] == "simulated"
    assert after["inconsistencies"] == []
    assert [(h["from"], h["to"]) for h in state_file(data_dir)["history"][-2:]] == [
        ("EMERGENCY_STOP", "OFF"),
        ("OFF", "DRY_RUN"),
    ]


def test_scenario_2_after_restart_restore_goes_to_dry_run_never_live(run: Run) -> None:
    assert run(RESTORE, "status").returncode == 0
    assert run(RESTORE, "restore", "--yes").returncode == 0
    report = status_json(run)
    assert report["state"] == "DRY_RUN"
    assert report["mode"] == "simulated"


@pytest.mark.process
def test_scenario_3_kill_switch_active_must_be_deactivated_first(run: Run, data_dir: Path) -> None:
    assert run(KILL, "activate", "Daily loss limit hit").returncode == 0
    status = status_json(run)
    assert status["state"] == "EMERGENCY_STOP"
    assert status["kill_switch"]["active"] is True
    assert status["kill_switch"]["reason"] == "Daily loss limit hit"
    refused = run(RESTORE, "restore", "--yes")
    assert refused.returncode == 3
    assert "kill switch must be deactivated before restoration" in refused.stderr
    assert "emergency_kill_switch.py deactivate" in refused.stderr
    assert status_json(run)["state"] == "EMERGENCY_STOP"  # refusal changed nothing
    kill_doc = json.loads((data_dir / ".nija_kill_switch_state.json").read_text())
    assert kill_doc["is_active"] is True
    assert kill_doc["history"][-1]["action"] == "activate"
    assert run(KILL, "deactivate", "Issue resolved: limit reset for the new day", "--yes").returncode == 0
    assert run(RESTORE, "restore", "--yes").returncode == 0
    assert status_json(run)["state"] == "DRY_RUN"


def test_scenario_4_testing_before_live_only_reaches_dry_run(run: Run, data_dir: Path) -> None:
    assert run(RESTORE, "restore", "--yes").returncode == 0
    again = run(RESTORE, "restore", "--yes")
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    assert state_file(data_dir)["current_state"] == "DRY_RUN"
    for command in ("status", "restore", "reset"):
        help_text = run(RESTORE, command, "--help").stdout
        assert "LIVE_ACTIVE" not in help_text.replace("Never enables LIVE", "")


def test_reset_moves_anything_to_off(run: Run) -> None:
    assert run(RESTORE, "restore", "--yes").returncode == 0
    result = run(RESTORE, "reset", "--yes")
    assert result.returncode == 0, result.stderr
    assert status_json(run)["state"] == "OFF"
    assert "nothing to do" in run(RESTORE, "reset", "--yes").stdout


def test_troubleshooting_restore_fails_with_kill_file_alone(run: Run, data_dir: Path) -> None:
    (data_dir / "EMERGENCY_STOP").touch()
    refused = run(RESTORE, "restore", "--yes")
    assert refused.returncode == 3
    assert "kill switch is active" in refused.stderr
    report = status_json(run)
    assert report["kill_switch"]["active"] is True
    # The command that saw the bare kill file recorded it: the record now says why.
    assert report["kill_switch"]["reason"] == "Kill file EMERGENCY_STOP found"
    assert report["inconsistencies"] == []


def test_deleting_the_kill_file_deactivates_nothing(run: Run, data_dir: Path) -> None:
    assert run(KILL, "activate", "Runaway orders").returncode == 0
    (data_dir / "EMERGENCY_STOP").unlink()
    report = status_json(run)
    assert report["kill_switch"]["active"] is True
    assert report["can_trade"] is False
    assert "KILL_RECORD_WITHOUT_FILE" in [i["code"] for i in report["inconsistencies"]]
    assert run(RESTORE, "restore", "--yes").returncode == 3


def test_deactivate_requires_a_reason(run: Run) -> None:
    assert run(KILL, "activate").returncode == 0
    refused = run(KILL, "deactivate", "--yes")
    assert refused.returncode == 3
    assert "needs a reason" in refused.stderr
    assert status_json(run)["kill_switch"]["active"] is True


def test_kill_status_and_history_show_who_and_why(run: Run) -> None:
    assert run(KILL, "activate", "Suspicious fills").returncode == 0
    status = run(KILL, "status")
    assert status.returncode == 0
    assert "KILL SWITCH: ACTIVE" in status.stdout
    assert "Suspicious fills" in status.stdout
    history = json.loads(run(KILL, "history", "--json").stdout)
    assert history["kill_switch"][-1]["action"] == "activate"
    assert history["kill_switch"][-1]["source"] == "cli"
    assert history["transitions"][-1]["to"] == "EMERGENCY_STOP"


def test_nija_command_offers_the_same_operations(run: Run) -> None:
    assert run("nija", "kill", "activate", "drill").returncode == 0
    assert json.loads(run("nija", "kill", "status", "--json").stdout)["active"] is True
    assert run("nija", "kill", "deactivate", "drill over", "--yes").returncode == 0
    assert run("nija", "restore", "--force").returncode == 0
    assert json.loads(run("nija", "status", "--json").stdout)["state"] == "DRY_RUN"


def test_data_dir_comes_from_flag_then_environment(run: Run, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    assert run(RESTORE, "restore", "--yes", "--data-dir", str(other)).returncode == 0
    assert state_file(other)["current_state"] == "DRY_RUN"
    from_env = run(RESTORE, "status", "--json", env={"NIJA_DATA_DIR": str(other)})
    assert json.loads(from_env.stdout)["state"] == "DRY_RUN"
    missing = run(RESTORE, "status", "--data-dir", str(tmp_path / "absent"))
    assert missing.returncode == 4
    assert "does not exist" in missing.stderr


@pytest.mark.process
def test_usage_errors_exit_2(run: Run) -> None:
    assert run(RESTORE, "bogus").returncode == 2
    assert run(RESTORE, "status", "--no-such-flag").returncode == 2
