"""Cost of the order gate's permission check against the PostgreSQL store's local view
(LISTEN/NOTIFY cache), next to the JSON file store's view for comparison.

    python benchmarks/fleet_permission_check.py [--calls 200000]"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore
from nija.store.ports import PermissionView
from nija.store.postgres import PostgresStore
from nija.store.postgres.testing import temporary_database

WHO = Who("bench", "benchmark")


def per_call_ns(view: PermissionView, calls: int) -> tuple[float, bool]:
    allowed = view.check().allowed
    started = time.perf_counter_ns()
    for _ in range(calls):
        view.check()
    return (time.perf_counter_ns() - started) / calls, allowed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    with temporary_database(prefix="nija_bench") as url:
        store = PostgresStore(url, bot="gate")
        SafetyService(store).restore(WHO)
        view = store.permission_view()
        view.wait_confirmed(10)
        pg_ns, pg_allowed = per_call_ns(view, args.calls)
        view.close()
        store.close()
        with tempfile.TemporaryDirectory() as directory:  # a bot run's view: its kill file looked for first
            store = PostgresStore(url, bot="gate")
            store.watch_kill_file(Path(directory))
            view = store.permission_view()
            view.wait_confirmed(10)
            watched_ns, watched_allowed = per_call_ns(view, args.calls)
            view.close()
            store.close()
    with tempfile.TemporaryDirectory() as directory:
        files = JsonFileStore(directory)
        SafetyService(files).restore(WHO)
        file_ns, file_allowed = per_call_ns(files.permission_view(), args.calls)
    print(f"permission check, {args.calls:,} calls each (answer: allowed in DRY_RUN):")
    print(f"  PostgreSQL local view: {pg_ns / 1000:.2f} us per check (allowed={pg_allowed})")
    print(f"  ... with the bot's kill file watched: {watched_ns / 1000:.2f} us per check (allowed={watched_allowed})")
    print(f"  JSON files view:       {file_ns / 1000:.2f} us per check (allowed={file_allowed})")


if __name__ == "__main__":
    main()
