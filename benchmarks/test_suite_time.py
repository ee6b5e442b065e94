"""Wall time of a pytest selection with the CLI tests in-process (the suite's default)
against the same selection with every CLI invocation a real process (as before), as a
ratio measured in the same run, with ``python -c pass`` alongside so that the figures
can be read on a loaded, shared machine.

Runs are interleaved (one of each per round) so that a burst of load hits both alike.
Target: the in-process run takes at most half the time of the all-process run.

With ``--workers N`` it compares instead the selection in one process against the same
selection on N pytest-xdist workers (``-n N --dist loadgroup``, as scripts/test.sh runs
it). Target: the workers take at most half the time of one process.

    python benchmarks/test_suite_time.py [--rounds 2] [--workers N] [SELECTION ...]   (default: tests/cli)

Needs NIJA_TEST_PG_DSN for selections that include PostgreSQL tests."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ALL_AS_PROCESSES = "NIJA_TESTS_ALL_AS_PROCESSES"  # tests/conftest.py


def timed(command: list[str], extra_env: dict[str, str] | None = None) -> float:
    env = {**os.environ, **(extra_env or {})}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="compare one process with N xdist workers")
    parser.add_argument("selection", nargs="*", default=["tests/cli"])
    args = parser.parse_args()
    pytest = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args.selection]
    if args.workers:
        compare_workers(pytest, args.workers, args.rounds, args.selection)
        return
    bare, in_process, as_processes = [], [], []
    for _ in range(args.rounds):
        bare.append(statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(5)))
        in_process.append(timed(pytest))
        as_processes.append(timed(pytest, {ALL_AS_PROCESSES: "1"}))
    b, inside, outside = (statistics.median(s) for s in (bare, in_process, as_processes))
    print(f"selection: {' '.join(args.selection)}   rounds: {args.rounds}")
    print(f"python -c pass               {b * 1000:8.1f} ms")
    print(f"every CLI call a process     {outside:8.1f} s   ({outside / b:,.0f}x python -c pass)")
    print(f"CLI calls in-process         {inside:8.1f} s   ({inside / b:,.0f}x python -c pass)")
    verdict = "met" if inside / outside <= 0.5 else "NOT met"
    print(f"in-process / all-process     {inside / outside:8.2f}     (target <= 0.50: {verdict})")


def compare_workers(pytest: list[str], workers: int, rounds: int, selection: list[str]) -> None:
    bare, serial, parallel = [], [], []
    for _ in range(rounds):
        bare.append(statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(5)))
        serial.append(timed([*pytest, "-n", "0"]))
        parallel.append(timed([*pytest, "-n", str(workers), "--dist", "loadgroup"]))
    b, one, many = (statistics.median(s) for s in (bare, serial, parallel))
    print(f"selection: {' '.join(selection)}   rounds: {rounds}")
    print(f"python -c pass               {b * 1000:8.1f} ms")
    print(f"one process                  {one:8.1f} s   ({one / b:,.0f}x python -c pass)")
    print(f"{workers} xdist workers              {many:8.1f} s   ({many / b:,.0f}x python -c pass)")
    verdict = "met" if many / one <= 0.5 else "NOT met"
    print(f"workers / one process        {many / one:8.2f}     (target <= 0.50: {verdict})")


if __name__ == "__main__":
    main()
