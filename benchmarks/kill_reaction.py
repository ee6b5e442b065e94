"""Kill reaction: from ``emergency_kill_switch.py activate`` returning in another process
to every open paper order cancelled, over N trials (p50, p99). Target p99 < 100 ms.

Also reported: from the kill file appearing (seen by a separate tight stat loop in this
process) to every order cancelled, which excludes the activating process's own
recording and exit. A negative figure means the orders were already cancelled when the
activating command returned.

Usage: python benchmarks/kill_reaction.py [--trials 50] [--orders 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from _stats import percentile
from running_bot import RunningBot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--orders", type=int, default=5)
    args = parser.parse_args()
    from_return: list[float] = []
    from_file: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, RunningBot(Path(tmp)) as running:
        kill_file = Path(tmp) / "EMERGENCY_STOP"
        for _ in range(args.trials):
            for _ in range(args.orders):
                assert running.place().accepted
            assert running.open_orders() >= args.orders
            running.bot.kill_complete.clear()
            appeared: list[float] = []
            spotter = threading.Thread(target=_spot, args=(kill_file, appeared))
            spotter.start()
            running.activate_in_another_process()
            returned = time.perf_counter()
            running.bot.kill_complete.wait(timeout=10)
            spotter.join()
            done = running.bot.reaction.kill.complete_at
            assert done is not None, "kill not complete"
            assert running.open_orders() == 0
            # complete_at is time.monotonic(); convert via the perf_counter offset of "now".
            done_pc = done - time.monotonic() + time.perf_counter()
            from_return.append((done_pc - returned) * 1000)
            from_file.append((done_pc - appeared[0]) * 1000)
            running.recover()
    print(f"trials: {args.trials}, open paper orders per trial: {args.orders} (+ the strategy's own)")
    for label, values in (
        ("activate returned -> all cancelled", from_return),
        ("kill file appeared -> all cancelled", from_file),
    ):
        print(
            f"{label}: p50 {percentile(values, 0.50):.1f} ms, p99 {percentile(values, 0.99):.1f} ms, "
            f"max {max(values):.1f} ms, mean {statistics.fmean(values):.1f} ms"
        )
    print(f"cancelled before the activating command returned: {sum(v <= 0 for v in from_return)}/{args.trials}")


def _spot(path: Path, appeared: list[float]) -> None:
    while True:
        try:
            os.stat(path)
        except FileNotFoundError:
            time.sleep(0.0002)
            continue
        appeared.append(time.perf_counter())
        return


if __name__ == "__main__":
    main()
