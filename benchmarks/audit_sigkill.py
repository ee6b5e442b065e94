"""SIGKILL harness for audit completeness: every committed change ends up with exactly one
audit record, whatever instant a writer is killed at.

Each trial forks a writer that changes state in a loop (kill activate/deactivate, restore,
reset; durable writes) and SIGKILLs it after a random delay. Every other trial a second
writer runs alongside it and survives (it must recover the dead one's changes, and never
record a change that is merely in flight). Then the trial counts the committed changes
without a record (what `nija audit verify` reports), runs the next NIJA process (a forked
`reconcile` or a `restore`), and checks the trail: chain intact, every change in the
histories with exactly one record, no sequence number used twice.

Usage: python benchmarks/audit_sigkill.py [--trials 1000] [--seed 1] [--json]"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from nija.assembly import build_service
from nija.audit import AuditLog, records
from nija.audit.changes import committed, record_key
from nija.audit.reconcile import unaudited
from nija.domain.errors import NijaError
from nija.domain.transitions import Who
from nija.store import JsonFileStore

TRIALS_PER_DIRECTORY = 100  # a fresh data directory now and then keeps each trial's checks short
MAX_DELAY_S = 0.03


@dataclass
class Figures:
    trials: int = 0
    kills: int = 0
    changes_committed: int = 0
    left_unaudited_by_a_kill: int = 0  # what verify found right after a kill (no survivor)
    trials_where_verify_found_a_gap: int = 0
    recovered_records: int = 0
    missing_after_next_process: int = 0
    duplicate_records: int = 0
    reused_sequence_numbers: int = 0
    broken_chains: int = 0
    interrupted_writes: int = 0
    seconds: float = 0.0


def writer(data_dir: Path, seed: int, steps: int | None) -> None:
    """Change state until killed (or for ``steps`` operations)."""
    service = build_service(data_dir)
    who = Who(f"writer-{os.getpid()}", "bench")
    rng = random.Random(seed)
    done = 0
    while steps is None or done < steps:
        op = rng.randrange(4)
        try:
            if op == 0:
                service.activate_kill("harness kill", who)
            elif op == 1:
                service.deactivate_kill("harness all clear", who)
            elif op == 2:
                service.restore(who)
            else:
                service.reset(who)
        except NijaError:
            pass  # a refusal (restore while killed, say) is part of the workload
        done += 1


def next_process(data_dir: Path, trial: int) -> None:
    service = build_service(data_dir)
    if trial % 2:
        service.reconcile_audit()
    else:
        try:
            service.restore(Who("next", "bench"))
        except NijaError:
            service.reconcile_audit()
    if service.listener_errors:
        raise SystemExit(f"audit failed: {service.listener_errors}")


def fork(target: object, *args: object) -> int:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            target(*args)  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - a child reports and exits, never returns
            print(f"child failed: {exc!r}", file=sys.stderr)
            code = 1
        os._exit(code)
    return pid


def wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def check(data_dir: Path, figures: Figures) -> None:
    log = AuditLog(data_dir)
    verdict = log.verify()
    if not verdict.intact:
        figures.broken_chains += 1
        print(f"  broken chain in {data_dir}: {verdict.problem}", file=sys.stderr)
    snapshot = JsonFileStore(data_dir).load()
    entries = committed(snapshot)
    figures.missing_after_next_process += len(unaudited(log, snapshot))
    audit_keys: Counter[tuple[str, ...]] = Counter()
    seqs: Counter[int] = Counter()
    for _, record in records(log.path):
        if isinstance(record, Exception):
            continue
        seqs[record.seq] += 1
        key = record_key(record)
        if key is not None:
            audit_keys[key] += 1
    history_keys = Counter(entry.key for entry in entries)
    figures.duplicate_records += sum(max(0, audit_keys[k] - n) for k, n in history_keys.items())
    figures.reused_sequence_numbers += sum(n - 1 for n in seqs.values() if n > 1)


def trial(data_dir: Path, number: int, rng: random.Random, figures: Figures) -> None:
    before = len(committed(JsonFileStore(data_dir).load()))
    survivor = number % 2 == 1
    victim = fork(writer, data_dir, rng.randrange(1 << 30), None)
    other = fork(writer, data_dir, rng.randrange(1 << 30), 6) if survivor else None
    time.sleep(rng.uniform(0, MAX_DELAY_S))
    os.kill(victim, signal.SIGKILL)
    wait(victim)
    figures.kills += 1
    if other is not None and wait(other) != 0:
        raise SystemExit("the surviving writer failed")
    if not survivor:
        gaps = unaudited(AuditLog(data_dir), JsonFileStore(data_dir).load())
        figures.left_unaudited_by_a_kill += len(gaps)
        figures.trials_where_verify_found_a_gap += bool(gaps)
    if wait(fork(next_process, data_dir, number)) != 0:
        raise SystemExit("the next process failed")
    snapshot = JsonFileStore(data_dir).load()
    figures.changes_committed += max(0, len(committed(snapshot)) - before)
    figures.trials += 1


def run(trials: int, seed: int) -> Figures:
    rng = random.Random(seed)
    figures = Figures()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        for number in range(trials):
            if number % TRIALS_PER_DIRECTORY == 0:
                if number:
                    check(data_dir, figures)
                data_dir = Path(tmp) / f"d{number}"
                data_dir.mkdir()
            trial(data_dir, number, rng, figures)
        check(data_dir, figures)
        for directory in Path(tmp).iterdir():
            for _, record in records(AuditLog(directory).path):
                if isinstance(record, Exception):
                    figures.interrupted_writes += 1
                elif "recovered" in record.details:
                    figures.recovered_records += 1
    figures.seconds = round(time.perf_counter() - start, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = run(args.trials, args.seed)
    if args.json:
        print(json.dumps(asdict(figures)))
        return
    print(f"audit completeness under SIGKILL: {figures.trials} trials in {figures.seconds} s")
    for name, value in asdict(figures).items():
        if name not in ("trials", "seconds"):
            print(f"  {name.replace('_', ' '):40s} {value}")


if __name__ == "__main__":
    main()
