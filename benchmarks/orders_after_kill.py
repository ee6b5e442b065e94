"""Orders accepted after the kill file exists, under a storm of order attempts: must be 0.

A thread fires order attempts through the running bot's gate as fast as it can (the
rate is printed; the target is at least 500/s) while another process runs
``emergency_kill_switch.py activate``. An attempt that *starts* after that command has
returned (so the kill file certainly exists) and is accepted is a violation. Also
checked: no paper order is left open once the kill reaction is done.

Usage: python benchmarks/orders_after_kill.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from running_bot import RunningBot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    attempts = accepted_before = violations = left_open = 0
    elapsed = 0.0
    with tempfile.TemporaryDirectory() as tmp, RunningBot(Path(tmp)) as running:
        for _ in range(args.rounds):
            killed = threading.Event()
            stop = threading.Event()
            counts = {"attempts": 0, "before": 0, "after": 0}

            def storm(
                counts: dict[str, int] = counts, killed: threading.Event = killed, stop: threading.Event = stop
            ) -> None:
                while not stop.is_set():
                    after = killed.is_set()  # read BEFORE the attempt starts
                    result = running.place()
                    counts["attempts"] += 1
                    if result.accepted:
                        counts["after" if after else "before"] += 1

            thread = threading.Thread(target=storm)
            started = time.perf_counter()
            thread.start()
            time.sleep(0.3)
            running.activate_in_another_process()
            killed.set()
            time.sleep(0.3)
            stop.set()
            thread.join()
            elapsed += time.perf_counter() - started
            running.bot.kill_complete.wait(timeout=10)
            left_open += running.open_orders()
            attempts += counts["attempts"]
            accepted_before += counts["before"]
            violations += counts["after"]
            running.recover()
    print(f"rounds: {args.rounds}; order attempts: {attempts:,} at {attempts / elapsed:,.0f} attempts/s")
    print(f"accepted before the kill: {accepted_before:,}")
    print(f"accepted after the kill file existed: {violations} (must be 0)")
    print(f"paper orders left open after the kill reaction: {left_open} (must be 0)")
    if violations or left_open:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
