"""What the fleet audit chain (one chain-head row locked in every change's transaction)
costs in transitions per second, as a ratio to a baseline tree measured in the same run.

    python benchmarks/fleet_audit_overhead.py --baseline-src /path/to/older/nija/src [--clients 8] [--seconds 5]

Runs benchmarks/fleet_transitions.py twice, alternating: with this tree's src (the chain)
and with the baseline's (e.g. a checkout from before the chain), and prints both and the
ratio for the contended case (every client on one bot) and one bot per client (where the
chain head is the only lock the clients share)."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "fleet_transitions.py"
_FIGURE = re.compile(r"([\d,]+) transitions/s")


def measure(src: Path, clients: int, seconds: float) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--clients", str(clients), "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    contended, separate = (float(m.replace(",", "")) for m in _FIGURE.findall(done.stdout)[:2])
    return contended, separate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-src", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    mine_src = HERE.parent / "src"
    mine: list[tuple[float, float]] = []
    base: list[tuple[float, float]] = []
    for _ in range(args.rounds):  # alternate, so a noisy neighbour hits both alike
        base.append(measure(args.baseline_src, args.clients, args.seconds))
        mine.append(measure(mine_src, args.clients, args.seconds))
    for i, what in enumerate(("one bot, every client contending", "one bot per client")):
        b = sum(r[i] for r in base) / len(base)
        m = sum(r[i] for r in mine) / len(mine)
        print(f"{what}: baseline {b:,.0f}/s, with the fleet audit chain {m:,.0f}/s (ratio {m / b:.2f})")


if __name__ == "__main__":
    main()
