"""What keeping the audit trail complete costs: the check every transaction makes under the
store lock (nothing missing, the usual case) at several history sizes, and the one-off full
reconciliation after a crash, on a long log.

Usage: python benchmarks/audit_reconcile.py [--log-records N]"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from nija.audit import AuditLog
from nija.audit.changes import transition_event
from nija.audit.reconcile import CHECKPOINT_FILE, AuditTrail
from nija.domain.events import Event, EventKind
from nija.domain.records import Snapshot, TradingRecord, Transition
from nija.domain.states import TradingState

START = datetime(2026, 2, 17, tzinfo=UTC)


def history(entries: int) -> TradingRecord:
    record = TradingRecord()
    for n in range(entries):
        to = TradingState.DRY_RUN if record.current_state is TradingState.OFF else TradingState.OFF
        record = record.with_transition(
            Transition(record.current_state, to, f"step {n}", START + timedelta(seconds=n), "bench", "bench")
        )
    return record


def audited(directory: Path, record: TradingRecord, filler: int) -> AuditTrail:
    log = AuditLog(directory, fsync=False)
    denial = Event(EventKind.ORDER_DENIED, "bot", "runtime", "kill switch active", START)
    log.append_all([denial] * filler + [transition_event(t) for t in record.history])
    return AuditTrail(log)


def per_check_ms(trail: AuditTrail, snapshot: Snapshot, rounds: int) -> float:
    trail.record(snapshot, ())  # writes the checkpoint
    start = time.perf_counter()
    for _ in range(rounds):
        trail.record(snapshot, ())
    return (time.perf_counter() - start) / rounds * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log-records", type=int, default=200_000)
    args = parser.parse_args()
    print("check under the store lock, nothing missing (no fsync: the check alone)")
    for entries in (10, 100, 1000):
        with tempfile.TemporaryDirectory() as tmp:
            record = history(entries)
            trail = audited(Path(tmp), record, filler=0)
            cost = per_check_ms(trail, Snapshot(trading=record), 200)
        print(f"  history of {entries:5d} entries: {cost:6.2f} ms per transaction")
    with tempfile.TemporaryDirectory() as tmp:
        record = history(1000)
        trail = audited(Path(tmp), record, filler=args.log_records)
        lost = record.with_transition(
            Transition(record.current_state, TradingState.OFF, "lost", START + timedelta(days=1), "bench", "bench")
        )
        (Path(tmp) / CHECKPOINT_FILE).unlink(missing_ok=True)
        start = time.perf_counter()
        found = trail.record(Snapshot(trading=lost), ())
        full = time.perf_counter() - start
        size_mb = trail.log.path.stat().st_size / 1e6
    print(
        f"full reconciliation (no checkpoint) of a {args.log_records + 1000:,}-record log ({size_mb:.0f} MB): "
        f"{full:.2f} s, {len(found)} recovered"
    )


if __name__ == "__main__":
    main()
