"""A complete audit trail for the JSON-file store: every committed change has its record.

Why reconcile rather than write the intent first: the state history is written atomically
with the change and is the truth of what was committed, so "committed but not audited"
(a process killed between its commit and its append) can always be found by comparing the
two, and repaired by the next process with the entry's own who, why and when, marked
``recovered``. An intent written before the commit would instead leave records of changes
that never happened whenever the commit itself failed or was cut.

To make "the next process" well defined, a change's records are appended while its store
lock is still held (``AuditTrail.record``): whoever holds the lock next sees every change
either audited or left by a dead process, never one in flight. The scan is kept short by
``.nija_audit.reconciled``, a cache of which history entries were audited up to which byte
of the log; it is only a shortcut (``nija audit verify`` never uses it)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nija.audit import chain
from nija.audit.changes import Committed, Key, Tally, committed, event_key, missing, recovered_event
from nija.audit.log import AuditLog
from nija.domain.errors import StorageProblem
from nija.domain.events import Event, EventKind
from nija.domain.records import Snapshot
from nija.store.atomic import write_atomic
from nija.store.record_file import RecordUnreadable, open_regular, read_record

CHECKPOINT_FILE = ".nija_audit.reconciled"
_KEYED = (EventKind.TRANSITION, EventKind.KILL_ACTIVATED, EventKind.KILL_DEACTIVATED)


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """What the reconciliation checkpoint says: the log (inode, size) it covered and what was audited."""

    inode: int
    size: int
    audited: Counter[str]  # digests of history entries known to have their record


class AuditTrail:
    """The audit listener of a store whose history lives beside the log."""

    __name__ = "audit"  # how SafetyService names this listener in listener_errors

    def __init__(self, log: AuditLog, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.log = log
        self.clock = clock
        self.checkpoint_path = log.directory / CHECKPOINT_FILE
        self.recovered: list[Committed] = []  # what this process appended as recovered
        self._saved: bytes | None = None  # the checkpoint this process last wrote

    def __call__(self, event: Event) -> None:
        """An event outside any store transaction (an order denial, say): just append it."""
        self.log.append(event)

    def record(self, snapshot: Snapshot, events: Sequence[Event]) -> list[Committed]:
        """Append ``events`` (this change's records) after the records of any committed change
        in ``snapshot`` that has none. Call with the store's lock held. Returns what was recovered."""
        entries = committed(snapshot)
        found: list[Committed] = []

        def first() -> list[Event]:
            found.extend(self._missing(entries, events))
            now, by = self.clock(), f"pid {os.getpid()}"
            return [recovered_event(entry, now, by) for entry in found]

        self.log.append_all(events, before=first)
        self.recovered.extend(found)
        self._save_checkpoint(entries)
        return found

    def _missing(self, entries: list[Committed], events: Sequence[Event]) -> list[Committed]:
        own = Counter(event_key(e) for e in events if e.kind in _KEYED)
        others = _without(entries, own, lambda entry: entry.key)
        if not others:
            return []
        size = _size(self.log.path)
        checkpoint = self._load_checkpoint()
        if checkpoint is not None and checkpoint.inode == size[0] and checkpoint.size <= size[1]:
            # Entries the checkpoint does not cover can only have been audited after it.
            candidates = _without(others, checkpoint.audited, lambda entry: _digest(entry.key))
            if not candidates or not missing(
                candidates, Tally.of(_records(self.log.path, checkpoint.size), candidates)
            ):
                return []
        # Something is missing, or there is no shortcut: the whole log decides, for every entry.
        return missing(others, Tally.of(_records(self.log.path, 0), others))

    def _load_checkpoint(self) -> _Checkpoint | None:
        try:
            raw = json.loads(read_record(self.checkpoint_path) or b"")
            audited = Counter({str(k): int(v) for k, v in raw["audited"].items()})
            return _Checkpoint(int(raw["inode"]), int(raw["size"]), audited)
        except (RecordUnreadable, OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no shortcut: the whole log is read once

    def _save_checkpoint(self, entries: list[Committed]) -> None:
        inode, size = _size(self.log.path)
        audited = Counter(_digest(entry.key) for entry in entries)
        body = json.dumps({"inode": inode, "size": size, "audited": dict(audited)}, separators=(",", ":")).encode()
        if body == self._saved and self.checkpoint_path.exists():
            return  # nothing new since this process wrote it
        with contextlib.suppress(StorageProblem):  # a cache: without it the next check reads more
            write_atomic(self.checkpoint_path, body, durable=False)
            self._saved = body


def _without(
    entries: Iterable[Committed], counts: Counter[str] | Counter[Key], key: Callable[[Committed], object]
) -> list[Committed]:
    left: Counter[object] = Counter(counts)
    kept: list[Committed] = []
    for entry in entries:
        k = key(entry)
        if left[k] > 0:
            left[k] -= 1
        else:
            kept.append(entry)
    return kept


@functools.lru_cache(maxsize=4096)  # the same history entries are looked at on every change
def _digest(key: Key) -> str:
    import hashlib

    return hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:20]


def _size(path: Path) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_ino, st.st_size)


def _records(path: Path, offset: int) -> Iterator[chain.AuditRecord]:
    """Records from byte ``offset`` on (hashes not checked: ``nija audit verify`` does that)."""
    try:
        stream = open_regular(path, buffering=1 << 20)  # a FIFO in its place must not hang
    except FileNotFoundError:
        return
    except RecordUnreadable as exc:
        raise OSError(f"the audit log {path} is unreadable ({exc})") from None
    with stream:
        stream.seek(offset)
        for line in stream:
            with contextlib.suppress(chain.BadLine):
                yield chain.decode(line.rstrip(b"\n"))


def reconcile(trail: AuditTrail, snapshot: Snapshot) -> list[Committed]:
    """Append the missing records only (``nija audit reconcile``, a starting server or bot)."""
    return trail.record(snapshot, ())


def unaudited(log: AuditLog, snapshot: Snapshot) -> list[Committed]:
    """The committed changes in ``snapshot`` without an audit record, reading the whole log."""
    entries = committed(snapshot)
    return missing(entries, Tally.of(_records(log.path, 0), entries))
