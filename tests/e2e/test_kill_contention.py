"""Kills and recoveries under contention, with real processes: a `touch EMERGENCY_STOP`
by a second person between the operator's look and the deactivation is never lost, and
parallel `--yes` recoveries all succeed with one chained history."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from nija.domain.errors import SafetyRefusal
from nija.domain.records import TradingRecord
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore
from tests.conftest import REPO, cli_env

pytestmark = pytest.mark.slow
WHO = Who("operator@host", "test")
ROUNDS = 120
SCRIPT = REPO / "safe_restore_trading.py"


def _records(data_dir: Path) -> tuple[bytes, ...]:
    return tuple((data_dir / n).read_bytes() for n in (".nija_trading_state.json", ".nija_kill_switch_state.json"))


def test_a_touch_between_the_look_and_the_deactivation_is_never_lost(data_dir: Path) -> None:
    rng = random.Random(11)
    service = SafetyService(JsonFileStore(data_dir))
    service.restore(WHO)
    kill_file = data_dir / "EMERGENCY_STOP"
    outcomes = {"refused": 0, "kept_as_new_file": 0, "lost": 0}
    for round_number in range(ROUNDS):
        service.activate_kill(f"round {round_number}", WHO)
        seen = service.kill_seen()  # the operator looks
        before = _records(data_dir)
        # A second person runs `touch EMERGENCY_STOP` (a real process) while the operator
        # confirms: it starts after the look and races the deactivation.
        toucher = subprocess.Popen(["touch", str(kill_file)])
        if rng.random() < 0.1:
            toucher.wait(timeout=30)  # sometimes the touch lands well before the deactivation
        try:
            service.deactivate_kill("fixed", WHO, expected=seen)
            refused = False
        except SafetyRefusal:
            refused = True
            assert _records(data_dir) == before, f"round {round_number}: a refusal wrote records"
        assert toucher.wait(timeout=30) == 0
        if not service.status().kill_active:
            outcomes["lost"] += 1
        elif refused:
            outcomes["refused"] += 1
        else:
            outcomes["kept_as_new_file"] += 1  # the touch came after the kill file was taken
        # Reset for the next round: the operator, having looked again, deactivates.
        service.adopt_kill_flag(WHO)
        service.deactivate_kill("reset between rounds", WHO, expected=service.kill_seen())
        assert not service.status().kill_active
        service.restore(WHO)
    print(f"touch race: {ROUNDS} rounds, {outcomes}")
    assert outcomes["lost"] == 0, outcomes
    assert outcomes["refused"] > 0


# `touch`'s two steps, held apart: open the kill file for writing, then (told to) set its time.
TOUCH_IN_TWO_STEPS = """
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
print("opened", flush=True)
sys.stdin.readline()
os.utime(fd)
print("touched", flush=True)
"""


def test_a_touch_that_opened_the_kill_file_before_the_deactivation_and_sets_its_time_after_is_kept(
    data_dir: Path,
) -> None:
    """The one order of the race that left no trace: `touch` opens EMERGENCY_STOP, the
    deactivation takes the file, and only then does `touch` set the time, on a file that
    would be deleted by then. A file still open for writing is a kill in flight: refused."""
    service = SafetyService(JsonFileStore(data_dir))
    service.restore(WHO)
    service.activate_kill("drill", WHO)
    seen = service.kill_seen()
    before = _records(data_dir)
    toucher = subprocess.Popen(
        [sys.executable, "-c", TOUCH_IN_TWO_STEPS, str(data_dir / "EMERGENCY_STOP")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert toucher.stdin is not None
    assert toucher.stdout is not None
    try:
        assert toucher.stdout.readline().strip() == "opened"
        with pytest.raises(SafetyRefusal):
            service.deactivate_kill("fixed", WHO, expected=seen)
        assert _records(data_dir) == before  # the refusal wrote nothing
        toucher.stdin.write("go\n")
        toucher.stdin.flush()
        assert toucher.stdout.readline().strip() == "touched"
    finally:
        toucher.stdin.close()
        assert toucher.wait(timeout=30) == 0
    assert service.status().kill_active  # the touch stands
    assert (data_dir / "EMERGENCY_STOP").exists()
    # No writer left: the operator looks again and the deactivation goes through.
    service.deactivate_kill("fixed", WHO, expected=service.kill_seen())
    assert not service.status().kill_active


def test_24_parallel_yes_restores_and_resets_all_succeed_with_one_chained_history(data_dir: Path) -> None:
    commands = ["restore" if i % 2 else "reset" for i in range(24)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(REPO / "safe_restore_trading.py"),
                command,
                "--yes",
                "--json",
                "--data-dir",
                str(data_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(NIJA_LOCK_TIMEOUT="120"),
        )
        for command in commands
    ]
    results = [(p.communicate(timeout=240), p.returncode) for p in procs]
    for (out, err), code in results:
        assert code == 0, out + err
        json.loads(out)
    record = JsonFileStore(data_dir).load().trading
    assert isinstance(record, TradingRecord)
    previous = None
    for entry in record.history:
        if previous is not None:
            assert entry.from_state is previous.to_state, (previous, entry)
        previous = entry
    assert previous is None or previous.to_state is record.current_state


def test_yes_when_the_target_is_already_reached_says_nothing_to_do(data_dir: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO / "safe_restore_trading.py"), *args, "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=60,
            check=False,
        )

    assert cli("restore", "--yes").returncode == 0
    again = cli("restore", "--yes")
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    assert cli("reset", "--yes").returncode == 0
    again = cli("reset", "--yes")
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
