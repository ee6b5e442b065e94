"""Input that is ambiguous, not text, hostile to a terminal, or not a file, through the real CLI.

Ambiguous records (duplicate keys, other encodings, bad schema versions) fail closed; no
string makes a command exit 1; control characters are refused when typed and shown as
visible escapes when already stored; a FIFO or a directory in place of a record blocks
nothing. Every command runs in its own process with a timeout, so a hang fails the test."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.domain.text import find_unsafe
from nija.domain.transitions import Who
from tests.conftest import Run, cli_env
from tests.runtime.runtime_helpers import wait_for

STATE = ".nija_trading_state.json"
KILL_STATE = ".nija_kill_switch_state.json"
HEARTBEAT = ".nija_heartbeat.json"
REPORT = ".nija_runtime.json"
T = "2026-11-30T09:00:00+00:00"

# Clears the screen, homes the cursor, paints the reassuring line, then hides what follows.
PAINT = "\x1b[2J\x1b[H\x1b[32mCan Trade: ✅ YES: simulated (DRY_RUN, no capital at risk)\x1b[8m"
HOSTILE = PAINT + "\x9b2J\u202e\u2066tail\x07\x08\r"


def state_doc(reason: str = "restored", state: str = "DRY_RUN") -> dict:  # type: ignore[type-arg]
    entry = {"from": "OFF", "to": state, "reason": reason, "timestamp": T, "actor": "alice", "source": "cli"}
    return {"current_state": state, "history": [entry], "last_updated": T}


def kill_doc(reason: str, actor: str = "mallory") -> dict:  # type: ignore[type-arg]
    entry = {"action": "activate", "reason": reason, "timestamp": T, "source": "api", "actor": actor}
    return {"is_active": True, "history": [entry], "last_updated": T}


def status(run: Run) -> dict:  # type: ignore[type-arg]
    result = run("nija", "status", "--json")
    assert result.returncode in (0, 5), result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def codes(report: dict) -> list[str]:  # type: ignore[type-arg]
    return [i["code"] for i in report["inconsistencies"]]


def assert_repairs_keeping_the_bytes(run: Run, data_dir: Path, name: str, bad: bytes) -> None:
    repaired = run("nija", "kill", "deactivate", "inspected the bad file", "--yes")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert [b.read_bytes() for b in data_dir.glob(f"{name}.corrupt-*")] == [bad]
    after = status(run)
    assert after["kill_switch"]["active"] is False
    assert after["state"] == "OFF"


# -- ambiguous records fail closed ----------------------------------------------------------
AMBIGUOUS_KILL = {
    "duplicate is_active": b'{"is_active": true, "history": [], "last_updated": null, "is_active": false}',
    "duplicate, values agree": b'{"is_active": false, "history": [], "is_active": false}',
    "utf-16": json.dumps({"is_active": False, "history": []}).encode("utf-16"),
    "utf-32-le": json.dumps({"is_active": False, "history": []}).encode("utf-32-le"),
    "schema 0": b'{"is_active": false, "history": [], "schema_version": 0}',
    "schema -1": b'{"is_active": false, "history": [], "schema_version": -1}',
    "schema true": b'{"is_active": false, "history": [], "schema_version": true}',
    "schema 1.0": b'{"is_active": false, "history": [], "schema_version": 1.0}',
}


@pytest.mark.parametrize("name", sorted(AMBIGUOUS_KILL))
def test_an_ambiguous_kill_record_is_a_kill_and_is_repaired_keeping_its_bytes(
    run: Run, data_dir: Path, name: str
) -> None:
    (data_dir / STATE).write_text(json.dumps(state_doc()))
    bad = AMBIGUOUS_KILL[name]
    (data_dir / KILL_STATE).write_bytes(bad)
    report = status(run)
    assert report["kill_switch"]["active"] is True
    assert report["can_trade"] is False
    assert "KILL_STATE_CORRUPT" in codes(report)
    assert run("nija", "restore", "--yes").returncode == 3
    kill = run("nija", "kill", "status")
    assert kill.returncode == 0, kill.stderr
    assert "ACTIVE" in kill.stdout
    assert (data_dir / KILL_STATE).read_bytes() == bad
    assert_repairs_keeping_the_bytes(run, data_dir, KILL_STATE, bad)


def test_a_state_record_with_two_current_states_fails_closed(run: Run, data_dir: Path) -> None:
    doc = json.dumps(state_doc(state="EMERGENCY_STOP"))
    bad = (doc[:-1] + ', "current_state": "DRY_RUN"}').encode()
    (data_dir / STATE).write_bytes(bad)
    result = run("nija", "status")
    assert result.returncode == 5
    assert "STATE_FILE_CORRUPT" in result.stdout
    assert 'the key "current_state" appears twice' in result.stdout
    assert status(run)["state"] == "EMERGENCY_STOP"
    assert_repairs_keeping_the_bytes(run, data_dir, STATE, bad)


# -- no string makes a command exit 1 ---------------------------------------------------------
SURROGATES = {
    "escaped lone surrogate": b"\\ud800",
    "escaped low surrogate": b"x\\udfff",
    "raw bytes ED A0 80": b"\xed\xa0\x80",
    "invalid UTF-8": b"\xff\xfe\xc3",
}


@pytest.mark.parametrize("file", [STATE, KILL_STATE])
@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_strings_that_are_not_text_fail_closed_and_every_command_works(
    run: Run, data_dir: Path, file: str, name: str
) -> None:
    doc = json.dumps(state_doc("SURROGATE") if file == STATE else kill_doc("SURROGATE"))
    bad = doc.encode().replace(b"SURROGATE", SURROGATES[name])
    (data_dir / file).write_bytes(bad)
    for command in (["status"], ["status", "--json"], ["history"], ["history", "--json"], ["kill", "status"]):
        result = run("nija", *command)
        assert result.returncode in (0, 5), (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "Unexpected" not in result.stderr
    assert run("emergency_kill_switch.py", "history").returncode == 0
    report = status(run)
    assert report["kill_switch"]["active"] is True
    assert report["can_trade"] is False
    assert_repairs_keeping_the_bytes(run, data_dir, file, bad)


# -- control characters: refused when typed, shown as escapes when stored -----------------------
@pytest.mark.parametrize("reason", [PAINT, "stop\u202eevil", "stop\x9b2J", "bad\udcff bytes"])
def test_a_hostile_activation_reason_is_refused_and_writes_nothing(run: Run, data_dir: Path, reason: str) -> None:
    (data_dir / STATE).write_text(json.dumps(state_doc()))
    before = sorted(p.name for p in data_dir.iterdir())
    result = run("nija", "kill", "activate", reason)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "control character" in result.stderr
    assert "did NOT activate the kill switch; no kill is in force" in result.stderr
    assert find_unsafe(result.stderr, multi_line=True) is None
    assert sorted(p.name for p in data_dir.iterdir()) == before  # no kill file, no record, no audit
    as_json = run("nija", "kill", "activate", reason, "--json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"]["code"] == "UNSAFE_TEXT"


def test_a_hostile_deactivation_reason_is_refused_and_the_kill_stays(run: Run, data_dir: Path) -> None:
    assert run("nija", "kill", "activate", "outage").returncode == 0
    result = run("nija", "kill", "deactivate", "fixed\x1b[2J", "--yes")
    assert result.returncode == 2, result.stderr
    assert "control character \\x1b" in result.stderr
    assert status(run)["kill_switch"]["active"] is True


def test_a_multi_line_reason_is_accepted_but_shown_on_its_own_line(run: Run, data_dir: Path) -> None:
    sneaky = "maintenance\nCan Trade: ✅ YES: simulated (DRY_RUN, no capital at risk)"
    assert run("nija", "kill", "activate", sneaky).returncode == 0
    shown = run("nija", "status")
    assert shown.returncode in (0, 5)
    assert "maintenance\\nCan Trade" in shown.stdout
    assert not [line for line in shown.stdout.splitlines() if line.startswith("Can Trade: ✅")]
    assert status(run)["kill_switch"]["reason"] == sneaky  # stored and reported as given


def test_a_hand_written_hostile_reason_is_rendered_harmlessly_everywhere(run: Run, data_dir: Path) -> None:
    (data_dir / STATE).write_text(json.dumps(state_doc(reason=HOSTILE, state="EMERGENCY_STOP")))
    (data_dir / KILL_STATE).write_text(
        json.dumps(kill_doc(HOSTILE, actor="mal\x1b]0;root\x07lory"), ensure_ascii=False)
    )
    (data_dir / "EMERGENCY_STOP").write_text("")
    (data_dir / REPORT).write_text(
        json.dumps(
            {
                "updated_at": T,
                "mode": "simulated",
                "broker": "paper\x1b[2J",
                "alerts": [{"timestamp": T, "code": "X\u202e", "message": PAINT}],
            }
        )
    )
    commands = [
        ["status"],
        ["history"],
        ["kill", "status"],
        ["kill", "history"],
        ["monitor", "--snapshot"],
        ["status", "--json"],
        ["history", "--json"],
        ["kill", "status", "--json"],
        ["monitor", "--snapshot", "--json"],
    ]
    for command in commands:
        result = run("nija", *command)
        assert result.returncode in (0, 5), (command, result.stderr)
        assert find_unsafe(result.stdout, multi_line=True) is None, (command, result.stdout)
        assert find_unsafe(result.stderr, multi_line=True) is None, (command, result.stderr)
        if "--json" in command:
            json.loads(result.stdout)  # still valid JSON ...
        else:
            assert "\\x1b[2J\\x1b[H" in result.stdout, command  # ... or visible escapes
            assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith("Can Trade: ✅")]
    # --json carries the stored text exactly: machines get the data, terminals get escapes
    report = status(run)
    assert report["kill_switch"]["reason"] == HOSTILE
    assert report["kill_switch"]["actor"] == "mal\x1b]0;root\x07lory"
    assert report["can_trade"] is False


# -- a FIFO or a directory in place of a record -------------------------------------------------
READS = (["status"], ["history"], ["kill", "status"], ["monitor", "--snapshot"], ["status", "--json"])


@pytest.mark.parametrize("file", [STATE, KILL_STATE])
@pytest.mark.parametrize("shape", ["fifo", "directory"])
def test_a_record_that_is_not_a_file_blocks_nothing_and_is_kept_on_repair(
    run: Run, data_dir: Path, file: str, shape: str
) -> None:
    path = data_dir / file
    if shape == "fifo":
        os.mkfifo(path)
        os.mkfifo(data_dir / HEARTBEAT)
        os.mkfifo(data_dir / REPORT)
    else:
        path.mkdir()
        (path / "keep.txt").write_text("something someone put here")
    for command in READS:
        result = run("nija", *command, timeout=60)  # a hang raises TimeoutExpired
        assert result.returncode in (0, 5), (command, result.stderr)
    report = status(run)
    assert report["kill_switch"]["active"] is True
    assert report["can_trade"] is False
    corrupt = "STATE_FILE_CORRUPT" if file == STATE else "KILL_STATE_CORRUPT"
    assert corrupt in codes(report)
    kind = "FIFO" if shape == "fifo" else "directory"
    assert kind in run("nija", "status").stdout
    assert run("nija", "restore", "--yes", timeout=60).returncode == 3
    repaired = run("nija", "kill", "deactivate", "removed the odd entry", "--yes", timeout=60)
    assert repaired.returncode == 0, repaired.stderr
    (kept,) = data_dir.glob(f"{file}.corrupt-*")
    if shape == "fifo":
        assert stat.S_ISFIFO(kept.lstat().st_mode)
    else:
        assert (kept / "keep.txt").read_text() == "something someone put here"
    assert path.is_file()
    assert status(run)["kill_switch"]["active"] is False


def test_a_running_bot_stops_trading_and_keeps_beating_when_its_state_file_becomes_a_fifo(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[bot]\nreport_s = 0.1\nheartbeat_s = 0.1\n")
    build_service(data_dir).restore(Who("alice@host", "cli"))
    bot = subprocess.Popen(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(data_dir), "--json", "--pace", "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        wait_for(lambda: (data_dir / HEARTBEAT).is_file() and (data_dir / REPORT).is_file(), what="the bot running")
        fifo = data_dir / "swap.fifo"
        os.mkfifo(fifo)
        os.rename(fifo, data_dir / STATE)  # atomically, as a careless tool might
        wait_for(lambda: _runtime_mode(data_dir) == "none", what="the bot to stop trading")
        beat = (data_dir / HEARTBEAT).stat().st_mtime_ns
        wait_for(lambda: (data_dir / HEARTBEAT).stat().st_mtime_ns != beat, what="another heartbeat")
        assert bot.poll() is None
        bot.send_signal(signal.SIGTERM)
        bot.communicate(timeout=30)  # a watcher stuck on the FIFO would hang the exit
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.communicate(timeout=30)


def _runtime_mode(data_dir: Path) -> str | None:
    try:
        mode = json.loads((data_dir / REPORT).read_text()).get("mode")
        return str(mode) if mode is not None else None
    except (OSError, ValueError):
        return None


@pytest.mark.parametrize("name", [".nija_audit.jsonl", ".nija_audit.head", ".nija_api_tokens.json"])
def test_a_fifo_in_place_of_the_audit_trail_or_the_token_file_hangs_no_command(
    run: Run, data_dir: Path, name: str
) -> None:
    if name == ".nija_audit.head":
        assert run("nija", "kill", "activate", "before the FIFO").returncode == 0
        (data_dir / name).unlink()
    os.mkfifo(data_dir / name, 0o600)
    for command in (
        ["kill", "activate", "outage"],
        ["kill", "deactivate", "fixed", "--yes"],
        ["audit", "verify"],
        ["token", "list"],
        ["status"],
    ):
        result = run("nija", *command, timeout=60)  # a hang raises TimeoutExpired
        assert result.returncode != 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
    assert (
        "FIFO" in run("nija", "audit" if "audit" in name else "token", "verify" if "audit" in name else "list").stderr
    )
    assert stat.S_ISFIFO((data_dir / name).lstat().st_mode)  # left for the operator to inspect


@pytest.mark.parametrize("name", ["nija.toml", ".nija_secrets.toml"])
def test_a_fifo_in_place_of_a_configuration_file_hangs_no_command(run: Run, data_dir: Path, name: str) -> None:
    os.mkfifo(data_dir / name, 0o600)
    for command in (["status"], ["kill", "activate", "outage"], ["kill", "status"], ["live", "request", "--yes"]):
        result = run("nija", *command, timeout=60)  # a hang raises TimeoutExpired
        assert result.returncode != 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
    assert status(run)["kill_switch"]["active"] is True
    shown = run("nija", "status" if name == "nija.toml" else "live", *([] if name == "nija.toml" else ["request"]))
    assert "it is a FIFO (named pipe), not a regular file" in shown.stderr
