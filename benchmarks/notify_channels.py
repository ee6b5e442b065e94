"""The cost of sending two NOTIFYs per commit (the scope's channel and the general one)
instead of one, with listening connections present as a fleet's agents would hold.

    NIJA_TEST_PG_DSN=postgresql://postgres@127.0.0.1:5432/postgres python benchmarks/notify_channels.py \
        [--listeners 50] [--rounds 5] [--commits 300]

One connection commits a transaction holding one ``pg_notify`` or two (one statement, as
``store/postgres/channels.py`` sends them), alternating blocks of --commits so both see
the same machine load; --listeners idle connections each LISTEN on a channel of their
own (the server still signals every listener of the database on each notifying commit).
Prints commits/s of each and their ratio."""

from __future__ import annotations

import argparse
import time

from nija.store.postgres.channels import GENERAL, channel
from nija.store.postgres.connect import Conn, connect
from nija.store.postgres.testing import temporary_database

ONE = "SELECT pg_notify(%s, %s)"
TWO = "SELECT pg_notify(%s, %s), pg_notify(%s, %s)"


def block(conn: Conn, sql: str, commits: int) -> float:
    scope_channel, payload = channel("bench-bot"), "change:bench-bot"
    params = (scope_channel, payload) if sql == ONE else (scope_channel, payload, GENERAL, payload)
    started = time.perf_counter()
    for _ in range(commits):
        with conn.transaction():
            conn.execute(sql, params)
    return commits / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args()
    with temporary_database(prefix="nija_bench") as url:
        listeners = [connect(url, application_name="bench-listener") for _ in range(args.listeners)]
        for i, conn in enumerate(listeners):
            conn.execute(f"LISTEN {channel(f'host-{i}')}")
        sender = connect(url)
        one: list[float] = []
        two: list[float] = []
        for _ in range(args.rounds):
            one.append(block(sender, ONE, args.commits))
            two.append(block(sender, TWO, args.commits))
        sender.close()
        for conn in listeners:
            conn.close()
    best_one, best_two = sorted(one)[len(one) // 2], sorted(two)[len(two) // 2]
    print(f"notifying commits/s with {args.listeners} listeners (median of {args.rounds} blocks of {args.commits}):")
    print(f"  one NOTIFY: {best_one:.0f}/s, two NOTIFYs: {best_two:.0f}/s (ratio {best_two / best_one:.2f})")


if __name__ == "__main__":
    main()
