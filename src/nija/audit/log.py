"""The append side of the audit trail: ``.nija_audit.jsonl`` in the data directory.

Appends from many processes are serialised by an flock on ``.nija_audit.lock`` (not the
store's lock: listeners run after the store's transaction, and a kill must never wait
for the audit). Each append reads the last record under the lock, writes one line with
a single ``write``, fsyncs it, then overwrites ``.nija_audit.head`` with the new end (for
``append_all``'s batch once, after its last record: the head is only a lower bound)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nija.audit import chain
from nija.audit.chain import BadLine, Head
from nija.audit.errors import AuditWriteFailed
from nija.domain.events import Event
from nija.store.atomic import PRIVATE_FILE
from nija.store.lock import exclusive

if TYPE_CHECKING:
    from nija.audit.verify import Verdict

LOG_FILE = ".nija_audit.jsonl"
HEAD_FILE = ".nija_audit.head"
LOCK_FILE = ".nija_audit.lock"
LOCK_TIMEOUT_S = 10.0
_TAIL_WINDOW = 1 << 16
HEAD_WIDTH = 128


class _Seen:
    """The log's end as this process last left it: reused while the file is unchanged.
    (A plain class: on Python 3.11 each dataclass costs every command ~1 ms to create.)"""

    __slots__ = ("head", "inode", "size")

    def __init__(self, inode: int, size: int, head: Head) -> None:
        self.inode = inode
        self.size = size
        self.head = head


class AuditLog:
    __name__ = "audit"  # how SafetyService names this listener in listener_errors

    def __init__(self, directory: Path | str, *, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOG_FILE
        self.head_path = self.directory / HEAD_FILE
        self.lock_path = self.directory / LOCK_FILE
        self.fsync = fsync
        self._seen: _Seen | None = None

    def __call__(self, event: Event) -> None:
        self.append(event)

    def append(self, event: Event) -> Head:
        try:
            with exclusive(self.lock_path, LOCK_TIMEOUT_S):
                return self._append_locked(event)
        except AuditWriteFailed:
            raise
        except Exception as exc:
            raise AuditWriteFailed(
                f"The audit record for '{event.kind}' was NOT written to {self.path}: {exc}",
                f"Make {self.directory} writable and check the disk; the action itself was carried out",
            ) from exc

    def append_all(
        self, events: Sequence[Event], *, before: Callable[[], Sequence[Event]] | None = None
    ) -> Head | None:
        """Append ``events`` under one hold of the lock; ``before`` (called under the lock)
        returns records to append first, so that what it computes from the log stays true."""
        pending: list[Event] = list(events)
        try:
            with exclusive(self.lock_path, LOCK_TIMEOUT_S):
                pending = [*(before() if before is not None else ()), *events]
                head = None
                try:
                    while pending:
                        head = self._append_locked(pending[0], write_head=False)
                        pending.pop(0)
                finally:
                    if head is not None:  # once per batch, not per record: a lower bound either way
                        self._write_head(head)
                return head
        except AuditWriteFailed:
            raise
        except Exception as exc:
            kinds = ", ".join(dict.fromkeys(f"'{e.kind}'" for e in pending)) or "reconciliation"
            raise AuditWriteFailed(
                f"The audit record for {kinds} was NOT written to {self.path}: {exc}",
                f"Make {self.directory} writable and check the disk; the action itself was carried out "
                "(the next NIJA command that changes state appends what is missing, marked as recovered)",
            ) from exc

    def verify(self) -> Verdict:
        from nija.audit.verify import verify  # only when checked: appending needs none of it

        return verify(self.path, self.head_path)

    def _append_locked(self, event: Event, *, write_head: bool = True) -> Head:
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        try:
            stat = os.fstat(fd)
            seen = self._seen
            if seen is not None and (seen.inode, seen.size) == (stat.st_ino, stat.st_size):
                last = seen.head
            else:
                last = _last_record(fd, stat.st_size)
            line, digest = chain.encode(event, last.seq + 1, last.hash)
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(f"short write ({written} of {len(line)} bytes)")
            if self.fsync:
                os.fdatasync(fd)
            if stat.st_size == 0 and self.fsync:
                _fsync_dir(self.directory)  # the new file's name must survive a crash too
            head = Head(last.seq + 1, digest)
            self._seen = _Seen(stat.st_ino, os.fstat(fd).st_size, head)
        finally:
            os.close(fd)
        if write_head:
            self._write_head(head)
        return head

    def _write_head(self, head: Head) -> None:
        """Overwrite the head in place with a fixed-width line (one small write inside one
        sector; a rename per append costs ~1 ms on ext4). No directory fsync: a head lost
        in a crash is an older one, and the head is only a lower bound on the log."""
        data = f'{{"seq":{head.seq},"hash":"{head.hash}"}}'.ljust(HEAD_WIDTH - 1).encode() + b"\n"
        fd = os.open(self.head_path, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK, PRIVATE_FILE)  # a FIFO: no hang
        try:
            os.pwrite(fd, data, 0)
            if os.fstat(fd).st_size != len(data):
                os.ftruncate(fd, len(data))
            if self.fsync:
                os.fdatasync(fd)
        finally:
            os.close(fd)


def _last_record(fd: int, size: int) -> Head:
    """Where the chain continues: the hash of the last whole record, and as ``seq`` the last
    number used, scanning back from the end. A torn final line (a write cut by a crash) is
    closed with a newline and kept as evidence; it used up its number, which is never reused."""
    if size == 0:
        return Head(0, chain.GENESIS)
    if os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")
    torn: list[bytes] = []
    end = size
    while end > 0:
        start = max(0, end - _TAIL_WINDOW)
        block = os.pread(fd, end - start, start)
        lines = block.split(b"\n")
        # The first piece may be a partial line unless the window reached the file start.
        complete = lines if start == 0 else lines[1:]
        for line in reversed(complete):
            if not line:
                continue
            try:
                record = chain.decode(line)
            except BadLine:
                torn.append(line)
                continue
            return Head(chain.next_seq(record.seq, torn) - 1, record.hash)
        if start == 0:
            break
        end = start + len(lines[0])
        if end >= size or len(lines) == 1:
            end = start  # a single line longer than the window: step back past it
    return Head(chain.next_seq(0, torn) - 1, chain.GENESIS)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
