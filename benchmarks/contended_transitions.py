"""Transitions per second with 4 processes contending on one data directory.

Each process alternates restore and reset (one transition each) for a fixed time.
Run: python benchmarks/contended_transitions.py"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import itertools

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore

PROCESSES, SECONDS = 4, 5.0


def worker(directory: str, start_at: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    service = SafetyService(JsonFileStore(directory, lock_timeout_s=60))
    who = Who("bench", "bench")
    while time.time() < start_at:
        time.sleep(0.001)
    done = 0
    while time.time() < start_at + SECONDS:
        done += len(service.restore(who).transitions)
        done += len(service.reset(who).transitions)
    results.put(done)


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        start_at = time.time() + 1.0
        procs = [multiprocessing.Process(target=worker, args=(directory, start_at, results)) for _ in range(PROCESSES)]
        for proc in procs:
            proc.start()
        total = sum(results.get() for _ in procs)
        for proc in procs:
            proc.join()
        store = JsonFileStore(directory)
        history = store.load().trading.history  # type: ignore[union-attr]
        chained = all(b.from_state is a.to_state for a, b in itertools.pairwise(history))
    print(
        f"{PROCESSES} processes, {SECONDS:g} s: {total} transitions, {total / SECONDS:.0f} transitions/s "
        f"(durable: fsync of file and directory on every write); history chained: {chained}"
    )


if __name__ == "__main__":
    main()
