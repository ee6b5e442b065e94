"""One bot per data directory: a second ``nija run`` is refused with the pid and host of
the one running; the claim of a bot that died is taken over, and said so."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Run, cli_env
from tests.runtime.claims import claim_held, try_claim

DEADLINE_S = 60.0


def _start_slow_bot(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(data_dir), "--pace", "0.05", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def _wait_for_claim(data_dir: Path, pid: int) -> None:
    lock = data_dir / ".nija_run.lock"
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"the bot (pid {pid}) never claimed {lock}")


@pytest.mark.process
def test_a_second_run_on_the_same_directory_is_refused_with_the_first_ones_pid_and_host(
    run: Run, data_dir: Path
) -> None:
    first = _start_slow_bot(data_dir)
    try:
        _wait_for_claim(data_dir, first.pid)
        second = run("nija", "run", "--data-dir", str(data_dir), "--max-candles", "5")
        assert second.returncode == 3, second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert socket.gethostname() in second.stderr
        assert "kill -TERM" in second.stderr
        assert "summary" not in second.stdout  # refused before it ran anything
        assert json.loads((data_dir / ".nija_run.lock").read_text())["pid"] == first.pid
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


@pytest.mark.process
def test_a_dead_bots_claim_is_taken_over_with_a_message(run: Run, data_dir: Path) -> None:
    first = _start_slow_bot(data_dir)
    try:
        _wait_for_claim(data_dir, first.pid)
    finally:
        first.kill()  # SIGKILL: no chance to clean up its claim
        first.communicate(timeout=60)
    after = run("nija", "run", "--data-dir", str(data_dir), "--max-candles", "5", "--json")
    assert after.returncode == 0, after.stderr
    assert "Took over the run lock" in after.stderr
    assert f"pid {first.pid}" in after.stderr


@pytest.mark.process
def test_a_clean_exit_leaves_no_claim_to_take_over(run: Run, data_dir: Path) -> None:
    assert run("nija", "run", "--data-dir", str(data_dir), "--max-candles", "5").returncode == 0
    again = run("nija", "run", "--data-dir", str(data_dir), "--max-candles", "5")
    assert again.returncode == 0, again.stderr
    assert "Took over" not in again.stderr


def test_two_fleet_bots_never_share_a_data_directory(tmp_path: Path) -> None:
    """Bots of two fleet scopes in one directory would share its record of the orders and
    positions they own: the second is refused, told which bot holds it."""
    with claim_held(tmp_path, "alpha") as holder:
        second = try_claim(tmp_path, "beta")
        assert second.returncode != 0
        assert "BotAlreadyRunning" in second.stderr
        assert f"bot alpha, pid {holder.pid}" in second.stderr


def test_a_bot_of_an_older_version_claiming_per_scope_is_not_run_beside(tmp_path: Path) -> None:
    """Before one bot per directory, a fleet bot held .nija_run.NAME.lock: during an upgrade
    the new version must not start beside it."""
    with claim_held(tmp_path, "alpha", per_scope=True) as holder:
        second = try_claim(tmp_path, "beta")
        assert second.returncode != 0
        assert "older NIJA version" in second.stderr
        assert f"pid {holder.pid}" in second.stderr


def test_an_entry_named_like_an_older_claim_that_is_no_file_does_not_hang_the_start(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".nija_run.x.lock")  # opening a FIFO for reading waits for a writer
    started = try_claim(tmp_path, "beta")
    assert started.returncode == 0, started.stderr
