"""Transitions per second on the fleet database with 8 contending client processes.

    python benchmarks/fleet_transitions.py [--clients 8] [--seconds 10]

Every client alternates restore (OFF -> DRY_RUN) and reset (DRY_RUN -> OFF) through
SafetyService on the SAME bot (every transaction contends for one row lock), then on
one bot each (no contention), and counts the transitions it recorded."""

from __future__ import annotations

import argparse
import multiprocessing
import time

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.testing import temporary_database


def client(url: str, bot: str, seconds: float, start_at: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    service = SafetyService(PostgresStore(url, bot=bot))
    who = Who("bench", "benchmark")
    service.status()  # connect before the clock starts
    while time.time() < start_at:
        time.sleep(0.001)
    recorded = 0
    deadline = start_at + seconds
    while time.time() < deadline:
        recorded += len(service.restore(who).transitions)
        recorded += len(service.reset(who).transitions)
    out.put(recorded)


def run(url: str, bots: list[str], seconds: float) -> float:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 2
    procs = [multiprocessing.Process(target=client, args=(url, bot, seconds, start_at, queue)) for bot in bots]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with temporary_database(prefix="nija_bench") as url:
        contended = run(url, ["shared"] * args.clients, args.seconds)
        separate = run(url, [f"bot{i}" for i in range(args.clients)], args.seconds)
        history = PostgresStore(url, bot="shared").load().trading
    print(f"fleet transitions, {args.clients} client processes, {args.seconds:g} s each run:")
    print(f"  one bot, every client contending for it: {contended:,.0f} transitions/s")
    print(f"  one bot per client (no contention):      {separate:,.0f} transitions/s")
    print(f"  history of the contended bot after the run: {len(getattr(history, 'history', ()))} entries loaded")


if __name__ == "__main__":
    main()
