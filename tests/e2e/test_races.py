"""Real processes racing on one data directory, and processes killed mid-write."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nija.domain.records import KillRecord, TradingRecord
from nija.domain.states import TradingState
from nija.store.json_files import JsonFileStore
from tests.conftest import cli_env

WORKER = Path(__file__).with_name("race_worker.py")

pytestmark = pytest.mark.slow


def start(data_dir: Path, mode: str, count: int, seed: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(data_dir), mode, str(count), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def finish(proc: subprocess.Popen[str]) -> dict[str, int]:
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def assert_history_chains(record: TradingRecord) -> None:
    for previous, entry in zip(record.history, record.history[1:], strict=False):
        assert entry.from_state is previous.to_state, (previous, entry)
    if record.history:
        assert record.history[-1].to_state is record.current_state


def test_racing_restores_and_resets_lose_no_transition(data_dir: Path) -> None:
    workers = [start(data_dir, "recover", 60, seed) for seed in range(4)]
    committed = sum(finish(w)["committed"] for w in workers)
    record = JsonFileStore(data_dir).load().trading
    assert isinstance(record, TradingRecord)
    assert_history_chains(record)
    assert len(record.history) == committed > 0


def test_a_kill_always_wins_against_racing_recoveries(data_dir: Path) -> None:
    for round_number in range(3):
        workers = [start(data_dir, "recover", 40, round_number * 10 + seed) for seed in range(3)]
        killer = start(data_dir, "kill", 1, round_number)
        results = [finish(w) for w in [*workers, killer]]
        snapshot = JsonFileStore(data_dir).load()
        assert snapshot.kill_active
        assert snapshot.state is TradingState.EMERGENCY_STOP
        assert isinstance(snapshot.trading, TradingRecord)
        assert_history_chains(snapshot.trading)
        assert len(snapshot.trading.history) == sum(r["committed"] for r in results)
        # nothing got past the kill: it is the last word in the history
        assert snapshot.trading.history[-1].reason == f"Kill switch activated: kill from worker {round_number}"
        (data_dir / "EMERGENCY_STOP").unlink()
        for name in (".nija_trading_state.json", ".nija_kill_switch_state.json"):
            (data_dir / name).unlink()


def test_sigkill_mid_write_never_leaves_a_broken_file(data_dir: Path) -> None:
    rng = random.Random(7)
    for trial in range(60):
        worker = start(data_dir, "churn", 0, trial)
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
        assert worker.stdout.readline().strip() == "wrote"  # committed at least once: killed mid-churn
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        snapshot = JsonFileStore(data_dir).load()
        assert isinstance(snapshot.trading, TradingRecord), snapshot.trading
        assert isinstance(snapshot.kill, KillRecord), snapshot.kill
        assert_history_chains(snapshot.trading)
        # a crash can leave the kill half-applied, but always on the safe side
        if snapshot.kill.is_active or snapshot.kill_flag:
            assert snapshot.kill_active
    record = JsonFileStore(data_dir).load().trading
    assert isinstance(record, TradingRecord)
    assert len(record.history) >= 60  # each worker committed before it was killed
    # the next writer cleans up what the killed writers left behind
    with JsonFileStore(data_dir).transaction():
        pass
    assert not list(data_dir.glob("*.tmp"))
    assert not list(data_dir.glob(".EMERGENCY_STOP.*.removing"))
