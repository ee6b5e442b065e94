"""Audit append cost per record: durable (fsync, the default) and without fsync, and when
another process appended in between (the writer re-reads the log's tail under the lock).

Usage: python benchmarks/audit_append.py [--records N]"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from nija.audit import AuditLog
from nija.domain.events import Event, EventKind

EVENT = Event(
    EventKind.ORDER_DENIED,
    "bot@host",
    "runtime",
    "the kill switch is active",
    datetime(2026, 2, 17, 22, 0, tzinfo=UTC),
    {"code": "KILL_SWITCH_ACTIVE", "symbol": "BTC/USDT"},
)


def per_record_us(logs: list[AuditLog], records: int) -> float:
    start = time.perf_counter()
    for n in range(records):
        logs[n % len(logs)].append(EVENT)
    return (time.perf_counter() - start) / records * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    records = parser.parse_args().records
    cases = {
        "durable (fsync log + head)": (True, 1),
        "durable, two writers alternating": (True, 2),
        "no fsync": (False, 1),
        "no fsync, two writers alternating": (False, 2),
    }
    print(f"audit append, {records} records per case")
    for name, (fsync, writers) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            logs = [AuditLog(Path(tmp), fsync=fsync) for _ in range(writers)]
            cost = per_record_us(logs, records)
            assert logs[0].verify().intact
        print(f"  {name:36s} {cost:9.1f} µs/record  ({1e6 / cost:,.0f} records/s)")


if __name__ == "__main__":
    main()
