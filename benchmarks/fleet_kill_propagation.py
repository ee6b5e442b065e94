"""Fleet kill propagation: from ``nija kill activate --fleet`` returning to each of 20 bot
processes refusing orders. Prints p50 and p99 (target: p99 under 100 ms).

    NIJA_TEST_PG_DSN=postgresql://postgres@127.0.0.1:5432/postgres python benchmarks/fleet_kill_propagation.py

Each bot is ``python -m nija.store.postgres.watch``: a permission view checked every
millisecond, printing the wall-clock time its answer changed. A bot that was already
refusing when the command returned counts as 0 ms (the kill flag is raised and
notified before the command records the kill)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _stats import percentile

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.testing import temporary_database

SRC = Path(__file__).resolve().parents[1] / "src"
WHO = Who("bench@host", "benchmark")


class Bot:
    def __init__(self, url: str, name: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nija.store.postgres.watch", url, name], stdout=subprocess.PIPE, text=True, env=env
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def first(self, answer: str, after: int) -> tuple[int, int]:
        """(line index, time ns) of the first ``answer`` after line ``after``; waits up to 30 s."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines[after:], start=after):
                stamp, _, rest = line.partition(" ")
                if stamp.isdigit() and rest.startswith(answer):
                    return i, int(stamp)
            time.sleep(0.002)
        raise RuntimeError(f"no {answer!r} after line {after}: {self.lines[after:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with temporary_database(prefix="nija_bench") as url:
        names = [f"bot{i:02d}" for i in range(args.bots)]
        services = [SafetyService(PostgresStore(url, bot=name)) for name in names]
        fleet = SafetyService(PostgresStore(url))
        for svc in services:
            svc.restore(WHO)
        bots = [Bot(url, name) for name in names]
        marks = [0] * len(bots)
        from_return: list[float] = []
        from_call: list[float] = []
        command_s: list[float] = []
        try:
            for _ in range(args.rounds):
                for i, bot in enumerate(bots):
                    marks[i], _ = bot.first("ALLOW", marks[i])
                started = time.time_ns()
                subprocess.run(
                    [sys.executable, "-m", "nija", "kill", "activate", "--fleet", "--store", url, "benchmark"],
                    check=True,
                    env=env,
                    capture_output=True,
                )
                returned = time.time_ns()
                command_s.append((returned - started) / 1e9)
                for i, bot in enumerate(bots):
                    marks[i], denied = bot.first("DENY KILL_SWITCH_ACTIVE", marks[i])
                    from_return.append(max(0, denied - returned) / 1e6)
                fleet.deactivate_kill("benchmark round over", WHO)
                for svc in services:
                    svc.restore(WHO)
                # The same kill from a process already running (API, control center):
                # measured from the call, so the propagation itself shows.
                for i, bot in enumerate(bots):
                    marks[i], _ = bot.first("ALLOW", marks[i])
                called = time.time_ns()
                fleet.activate_kill("benchmark in-process", WHO)
                for i, bot in enumerate(bots):
                    marks[i], denied = bot.first("DENY KILL_SWITCH_ACTIVE", marks[i])
                    from_call.append((denied - called) / 1e6)
                fleet.deactivate_kill("benchmark round over", WHO)
                for svc in services:
                    svc.restore(WHO)
        finally:
            for bot in bots:
                bot.process.kill()
                bot.process.wait()
            for svc in (*services, fleet):
                svc.store.close()  # type: ignore[attr-defined]
    already = sum(1 for v in from_return if v == 0)
    print(f"fleet kill propagation: {args.bots} bot processes x {args.rounds} rounds = {len(from_return)} samples")
    print("  from 'kill activate --fleet' returning to the bot refusing orders:")
    print(
        f"    p50 {percentile(from_return, 0.50):.1f} ms, p99 {percentile(from_return, 0.99):.1f} ms, "
        f"max {max(from_return):.1f} ms ({already} samples were already refusing when it returned)"
    )
    print("  from SafetyService.activate_kill being called (in a running process) to the bot refusing:")
    p50, p99 = percentile(from_call, 0.50), percentile(from_call, 0.99)
    print(f"    p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(from_call):.1f} ms")
    print(f"  the command itself (process start to exit): median {statistics.median(command_s) * 1000:.0f} ms")
    print(f"  target p99 < 100 ms: {'MET' if percentile(from_return, 0.99) < 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
