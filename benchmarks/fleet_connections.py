"""Connections and load of ``nija run`` bots on the fleet store, measured on the server.

    NIJA_TEST_PG_DSN=postgresql://postgres@127.0.0.1:5432/postgres python benchmarks/fleet_connections.py --bots 3

Starts BOTS real ``nija run --store URL --bot NAME`` processes (DRY_RUN, a paced replay),
waits until each has written its heartbeat, then reads pg_stat_activity (connections
by application_name) and pg_stat_database (transactions per second over a window) for
the test database, and counts the NOTIFY deliveries a fleet kill causes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from _fleet import commits

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.connect import connect
from nija.store.postgres.testing import admin_dsn, temporary_database

SRC = Path(__file__).resolve().parents[1] / "src"
WHO = Who("bench@host", "benchmark")


def connections(dbname: str) -> Counter[str]:
    with connect(admin_dsn()) as admin:
        rows = admin.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,)
        ).fetchall()
    return Counter(str(r[0]) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bots", type=int, default=3)
    parser.add_argument("--window", type=float, default=5.0, help="seconds to count transactions over")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with temporary_database(prefix="nija_bench") as url, tempfile.TemporaryDirectory() as tmp:
        dbname = urlsplit(url).path.lstrip("/")
        names = [f"bot{i}" for i in range(args.bots)]
        for name in names:
            SafetyService(PostgresStore(url, bot=name)).restore(WHO)
        bots = []
        for name in names:
            data_dir = Path(tmp) / name
            data_dir.mkdir()
            command = [sys.executable, "-m", "nija", "run", "--store", url, "--bot", name]
            command += ["--data-dir", str(data_dir), "--pace", "0.05"]
            bots.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        try:
            reader = PostgresStore(url)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                beats = [reader.load_scope(n).heartbeat for n in names]
                if all(b is not None and not b.stopped for b in beats):
                    break
                time.sleep(0.2)
            time.sleep(1.0)  # every thread connected
            seen = connections(dbname)
            reader.close()
            tools = connections(dbname)  # the benchmark's own reader is closed now
            before = commits(dbname)
            time.sleep(args.window)
            rate = (commits(dbname) - before) / args.window
            per_bot = tools
            print(f"bots: {args.bots}")
            print(f"connections of the bots: {sum(per_bot.values())} ({sum(per_bot.values()) / args.bots:g} per bot)")
            for name, count in sorted(per_bot.items()):
                print(f"  {name or '(none)'}: {count}")
            print(f"(with the benchmark's reader: {sum(seen.values())})")
            print(f"transactions per second: {rate:.1f} ({rate / args.bots:.1f} per bot)")
            listeners = sum(v for k, v in per_bot.items() if k.startswith(("nija-view", "nija-feed")))
            notifies = args.bots + 2  # a fleet kill: kill:@fleet, change:@fleet, change:<bot> per bot
            print(f"LISTEN connections: {listeners}; a fleet kill sends {notifies} NOTIFYs,", end=" ")
            print(f"delivered {notifies * listeners:,} times")
        finally:
            for bot in bots:
                bot.terminate()
            for bot in bots:
                bot.wait(timeout=60)


if __name__ == "__main__":
    main()
