"""Property: any edit, deletion, insertion or reordering of audit records is detected, and
the first bad record is the one named."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nija.audit import AuditLog, chain
from nija.domain.events import Event, EventKind

events = st.builds(
    Event,
    kind=st.sampled_from(EventKind),
    actor=st.text(max_size=12),
    source=st.sampled_from(["cli", "api", "bot", "tui"]),
    reason=st.text(max_size=30),
    timestamp=st.datetimes(timezones=st.just(UTC)),
    details=st.dictionaries(st.text(max_size=5), st.text(max_size=8), max_size=2),
)


@dataclass(frozen=True)
class Expected:
    line: int
    seq: int | None  # None: do not check the seq named (a byte flip may make it unreadable)


def write_log(directory: Path, items: list[Event]) -> list[bytes]:
    log = AuditLog(directory, fsync=False)
    for event in items:
        log.append(event)
    return log.path.read_bytes().splitlines(keepends=True)


def verify_lines(directory: Path, lines: list[bytes]) -> tuple[int, int | None]:
    log = AuditLog(directory, fsync=False)
    log.path.write_bytes(b"".join(lines))
    verdict = log.verify()
    assert verdict.problem is not None, "tampering went undetected"
    return verdict.problem.line, verdict.problem.seq


def forged(prev_hash: str, seq: int, reason: str) -> bytes:
    line, _ = chain.encode(
        Event(EventKind.RESTORE, "mallory", "cli", reason, datetime(2026, 1, 1, tzinfo=UTC)), seq, prev_hash
    )
    return line


def hash_of(line: bytes) -> str:
    return chain.decode(line.rstrip(b"\n")).hash


@st.composite
def logs_and_tampering(draw: st.DrawFn) -> tuple[list[Event], str, tuple[int, ...], str]:
    items = draw(st.lists(events, min_size=1, max_size=10))
    n = len(items)
    kinds = ["edit", "edit_and_rehash", "delete", "insert", "flip"] + (["swap"] if n > 1 else [])
    kind = draw(st.sampled_from(kinds))
    i = draw(st.integers(0, n - 1))
    if kind == "swap":
        j = draw(st.integers(0, n - 1).filter(lambda j: j != i))
        return items, kind, (min(i, j), max(i, j)), ""
    if kind == "flip":
        return items, kind, (i, draw(st.integers(0, 10_000))), ""
    return items, kind, (i,), draw(st.text(min_size=1, max_size=10))


def tamper(lines: list[bytes], kind: str, where: tuple[int, ...], text: str) -> tuple[list[bytes], Expected]:
    lines = list(lines)
    n = len(lines)
    i = where[0]
    if kind in ("edit", "edit_and_rehash"):
        record = chain.decode(lines[i].rstrip(b"\n"))
        changed = Event(
            EventKind(record.kind), record.actor, record.source, record.reason + text, record.timestamp, record.details
        )
        line, _ = chain.encode(changed, record.seq, record.prev)
        if kind == "edit":  # new content, old hash
            body, _ = chain.split(line.rstrip(b"\n"))
            line = body[:-1] + b',"hash":"' + record.hash.encode() + b'"}\n'
            lines[i] = line
            return lines, Expected(i + 1, i + 1)
        lines[i] = line  # a consistent record: the next one (or the head) no longer matches it
        return lines, Expected(i + 2, i + 2) if i < n - 1 else Expected(i + 1, i + 1)
    if kind == "delete":
        del lines[i]
        return lines, Expected(i + 1, i + 2) if i < n - 1 else Expected(n, n)
    if kind == "insert":  # a well-formed record forged to follow record i-1, before record i
        prev = hash_of(lines[i - 1]) if i > 0 else chain.GENESIS
        lines.insert(i, forged(prev, i + 1, text))
        # It takes the place of record i+1: the head catches it if that was the last record.
        return lines, Expected(i + 2, i + 1) if i < n - 1 else Expected(i + 1, i + 1)
    if kind == "swap":
        j = where[1]
        lines[i], lines[j] = lines[j], lines[i]
        return lines, Expected(i + 1, j + 1)
    # flip one byte of line i (never into a newline, which would split the line)
    flipped = bytearray(lines[i])
    position = where[1] % (len(flipped) - 1)
    flipped[position] ^= 0x01 if flipped[position] ^ 0x01 != 0x0A else 0x02
    lines[i] = bytes(flipped)
    return lines, Expected(i + 1, None)


@settings(max_examples=300, deadline=None)
@given(logs_and_tampering())
def test_any_tampering_is_detected_at_the_first_bad_record(case: tuple[list[Event], str, tuple[int, ...], str]) -> None:
    items, kind, where, text = case
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        lines = write_log(directory, items)
        tampered, expected = tamper(lines, kind, where, text)
        line, seq = verify_lines(directory, tampered)
    assert line == expected.line, (kind, where)
    if expected.seq is not None:
        assert seq == expected.seq, (kind, where)


@settings(max_examples=100, deadline=None)
@given(st.lists(events, max_size=15))
def test_an_untouched_log_verifies_with_every_record_counted(items: list[Event]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = AuditLog(Path(tmp), fsync=False)
        heads = [log.append(event) for event in items]
        verdict = log.verify()
    assert verdict.intact
    assert verdict.records == len(items)
    assert verdict.last == (heads[-1] if heads else None)


def test_a_truncated_final_record_is_named(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, fsync=False)
    for n in range(3):
        log.append(Event(EventKind.RESET, "op", "cli", f"r{n}", datetime(2026, 1, 1, tzinfo=UTC)))
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-20])
    verdict = log.verify()
    assert verdict.problem is not None
    assert verdict.problem.line == 3
    assert "incomplete" in verdict.problem.message


def test_a_deleted_log_with_its_head_left_is_detected(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, fsync=False)
    log.append(Event(EventKind.RESET, "op", "cli", "r", datetime(2026, 1, 1, tzinfo=UTC)))
    log.path.unlink()
    verdict = log.verify()
    assert verdict.problem is not None
    assert verdict.problem.seq == 1
    assert "removed" in verdict.problem.message
