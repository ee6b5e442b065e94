"""``audit verify`` throughput on a log of 1,000,000 records (generated in a temp dir), with
the peak memory of the process, to show that verification streams.

Usage: python benchmarks/audit_verify.py [--records N]"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nija.audit import HEAD_FILE, LOG_FILE, AuditLog, chain
from nija.domain.events import Event, EventKind

KINDS = list(EventKind)


def generate(directory: Path, records: int) -> None:
    """Write the chain directly (no lock, no fsync per record): only verification is measured."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = chain.GENESIS
    with (directory / LOG_FILE).open("wb", buffering=1 << 20) as out:
        for seq in range(1, records + 1):
            event = Event(
                KINDS[seq % len(KINDS)],
                f"operator{seq % 7}@host",
                "runtime",
                f"reason number {seq}",
                start + timedelta(seconds=seq),
                {"code": "RISK_LIMIT"} if seq % 3 == 0 else {},
            )
            line, prev = chain.encode(event, seq, prev)
            out.write(line)
    (directory / HEAD_FILE).write_text(f'{{"seq":{records},"hash":"{prev}"}}\n')


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    records = parser.parse_args().records
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        began = time.perf_counter()
        generate(directory, records)
        generated = time.perf_counter() - began
        size = (directory / LOG_FILE).stat().st_size
        print(f"generated {records:,} records ({size / 2**20:.0f} MiB) in {generated:.1f} s")
        rss_before = peak_rss_mib()
        began = time.perf_counter()
        verdict = AuditLog(directory).verify()
        elapsed = time.perf_counter() - began
        assert verdict.intact, verdict
        assert verdict.records == records, verdict
        rate = size / 2**20 / elapsed
        print(f"verify (in process): {elapsed:.1f} s, {records / elapsed:,.0f} records/s, {rate:.0f} MiB/s")
        print(f"peak RSS: {rss_before:.0f} MiB before verify, {peak_rss_mib():.0f} MiB after (streams: no growth)")
        began = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "nija", "audit", "verify", "--data-dir", str(directory)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
        elapsed = time.perf_counter() - began
        assert cli.returncode == 0, cli.stdout + cli.stderr
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"'nija audit verify' (a process): exit {cli.returncode} in {elapsed:.1f} s, "
            f"{records / elapsed:,.0f} records/s, peak RSS {child_rss:.0f} MiB"
        )


if __name__ == "__main__":
    main()
