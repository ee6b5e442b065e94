"""Stream an audit log and check its chain; stop at the first bad record.

Memory stays bounded (one line at a time), so a log of millions of records verifies
in constant space. The head file written beside the log anchors its end, so records
removed from the end are detected too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nija.audit import chain
from nija.audit.chain import AuditRecord, BadLine, Head
from nija.store.record_file import RecordUnreadable, open_regular, read_record

READ_BUFFER = 1 << 20
HEAD_READ_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    seq: int | None  # the record number, when it could be read
    message: str

    def describe(self) -> str:
        where = f"record #{self.seq} (line {self.line})" if self.seq is not None else f"line {self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Verdict:
    records: int  # records checked before the first problem (all of them when intact)
    last: Head | None
    problem: Problem | None
    interrupted: tuple[int, ...] = ()  # line numbers of writes cut by a crash (kept as evidence)

    @property
    def intact(self) -> bool:
        return self.problem is None


def read_head(path: Path) -> Head | BadLine | None:
    """The head, or None if there is none. Read again when unparseable: a writer may be
    overwriting it at this very moment."""
    problem: Exception | None = None
    for attempt in range(HEAD_READ_ATTEMPTS):
        try:
            data = read_record(path)  # a FIFO in its place must not hang 'audit verify'
            if data is None:
                return None
            raw = json.loads(data)
            return Head(int(raw["seq"]), str(raw["hash"]))
        except RecordUnreadable as exc:
            return BadLine(f"the head file {path} is unreadable ({exc})")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problem = exc
            time.sleep(0.01 * (attempt + 1))
    return BadLine(f"the head file {path} is unreadable ({problem})")


@dataclass
class _Walk:
    """The chain as read so far: the last whole record, and torn lines met since it."""

    prev: str = chain.GENESIS
    seq: int = 0
    records: int = 0
    last: Head | None = None
    torn: list[bytes] = field(default_factory=list)
    torn_lines: list[int] = field(default_factory=list)
    interrupted: list[int] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return chain.next_seq(self.seq, self.torn)


def verify(log: Path, head_path: Path) -> Verdict:
    head = read_head(head_path)  # read first: the writer updates it only after appending
    if isinstance(head, BadLine):
        return Verdict(0, None, Problem(0, None, str(head)))
    walk, line_no = _Walk(), 0
    try:
        stream = open_regular(log, buffering=READ_BUFFER)
    except FileNotFoundError:
        stream = None
    except RecordUnreadable as exc:
        return Verdict(0, None, Problem(0, None, f"the audit log {log} is unreadable ({exc})"))
    if stream is not None:
        with stream:
            for line_no, line in enumerate(stream, start=1):
                problem = _step(walk, line, line_no, head)
                if problem is not None:
                    return Verdict(walk.records, walk.last, problem, tuple(walk.interrupted))
    if head is not None and head.seq > walk.seq:
        if walk.torn_lines:  # the record the head names is there, but cut: not a crash
            where, message = walk.torn_lines[0], f"incomplete final record: record #{head.seq} was written whole"
            message += " (the head says so) and has since been cut"
        else:
            where, message = (
                line_no + 1,
                (
                    f"missing: the log ends at record #{walk.seq} but record #{head.seq} was written "
                    "(records removed from the end)"
                ),
            )
        return Verdict(walk.records, walk.last, Problem(where, head.seq, message), tuple(walk.interrupted))
    return Verdict(walk.records, walk.last, None, tuple(walk.interrupted + walk.torn_lines))


def _step(walk: _Walk, line: bytes, line_no: int, head: Head | None) -> Problem | None:
    """Advance over one line. A torn line (no hash suffix: a write cut by a crash) is allowed
    only if the next record chains past it to the record before it, with a new number."""
    body_line = line[:-1] if line.endswith(b"\n") else line
    if chain.is_torn(body_line):
        walk.torn.append(body_line)
        walk.torn_lines.append(line_no)
        return None
    checked = _check(line, line_no, walk.seq, walk.expected, walk.prev, head)
    if isinstance(checked, Problem):
        if walk.torn_lines:  # the damage began at the torn line, not at the record after it
            return Problem(
                walk.torn_lines[0],
                _seq_of(walk.torn[0]),
                "incomplete record, and the record after it does not continue the chain: "
                "a record was cut or damaged after it was written",
            )
        return checked
    walk.interrupted.extend(walk.torn_lines)
    walk.torn, walk.torn_lines = [], []
    walk.prev, walk.seq, walk.last = checked.hash, checked.seq, checked
    walk.records += 1
    return None


def _check(line: bytes, line_no: int, last: int, expected: int, prev: str, head: Head | None) -> Head | Problem:
    """The record on this line as (seq, hash) if it is whole and follows ``prev``."""
    if not line.endswith(b"\n"):
        return Problem(line_no, None, "incomplete final record (an interrupted write, or the file was cut)")
    try:
        body, stated = chain.split(line[:-1])
        if chain.digest(body) != stated:
            raise BadLine("its content does not match its hash (the record was edited)")
        seq, stated_prev = chain.link(body)
    except BadLine as exc:
        return Problem(line_no, _seq_of(line), str(exc))
    if seq != expected or stated_prev != prev:
        return Problem(
            line_no,
            seq,
            f"does not follow record #{last} (expected record #{expected} here): "
            "records were removed, inserted or reordered",
        )
    if head is not None and head.seq == seq and head.hash != stated:
        return Problem(line_no, seq, "differs from the record the writer finished (the chain was rewritten)")
    return Head(seq, stated)


def _seq_of(line: bytes) -> int | None:
    try:
        return chain.decode(line.rstrip(b"\n")).seq
    except BadLine:
        return None


def records(log: Path) -> Iterator[tuple[int, AuditRecord | BadLine]]:
    """Every line of the log, parsed (hashes not checked), as (line number, record or problem)."""
    try:
        stream = open_regular(log, buffering=READ_BUFFER)
    except FileNotFoundError:
        return
    except RecordUnreadable as exc:
        yield 0, BadLine(f"the audit log {log} is unreadable ({exc})")
        return
    with stream:
        for line_no, line in enumerate(stream, start=1):
            try:
                yield line_no, chain.decode(line.rstrip(b"\n"))
            except BadLine as exc:
                yield line_no, exc
