"""Strict reading (one meaning per record or none) and the free-text rules of invariant 12."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nija.domain.errors import UnsafeText
from nija.domain.records import Unreadable
from nija.domain.text import check_name, check_reason, find_unsafe, json_for_terminal, printable
from nija.store import codec, strict_json
from nija.store.json_files import JsonFileStore
from nija.store.record_file import RecordUnreadable, read_record

KILL_ON = '{"is_active": true, "history": [], "last_updated": null}'
STATE = '{"current_state": "DRY_RUN", "history": [], "schema_version": 1}'


@pytest.mark.parametrize(
    "raw",
    [
        b'{"is_active": true, "history": [], "is_active": false}',
        b'{"is_active": false, "history": [], "is_active": false}',  # even when the values agree
        b'{"is_active": false, "history": [{"reason": "a", "reason": "b", "timestamp": "2026-01-01T00:00:00"}]}',
        b'{"is_active": false, "history": [], "x": [{"k": 1, "k": 2}]}',  # nested, in an unknown key
    ],
)
def test_a_duplicate_key_anywhere_makes_the_record_unreadable(raw: bytes) -> None:
    with pytest.raises(codec.DecodeError, match="appears twice"):
        codec.decode_kill(raw)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"])
def test_only_utf8_is_a_record(encoding: str) -> None:
    raw = STATE.replace("[]", '[], "note": "caf\u00e9"').encode(encoding)
    assert json.loads(raw.decode(encoding))["current_state"] == "DRY_RUN"  # a valid document, but not UTF-8
    with pytest.raises(codec.DecodeError, match=r"not UTF-8|not valid JSON"):
        codec.decode_trading(raw)


def test_utf16_with_its_byte_order_mark_is_named() -> None:
    with pytest.raises(codec.DecodeError, match=r"not UTF-8 \(byte 0 is ff\)"):
        codec.decode_trading(STATE.encode("utf-16"))


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert str(codec.decode_trading(b"\xef\xbb\xbf" + STATE.encode()).current_state) == "DRY_RUN"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"current_state": "OFF", "history": [], "n": "\\ud800"}', "lone surrogate"),
        (b'{"current_state": "OFF", "history": [], "n": ["x\\udfff"]}', "lone surrogate"),
        (b'{"current_state": "OFF", "history": [], "\\udc80": 1}', "lone surrogate"),
        (b'{"current_state": "OFF", "history": [], "n": "\xed\xa0\x80"}', "not UTF-8"),  # CESU surrogate bytes
        (b'{"current_state": "OFF", "history": [], "n": "\xc3"}', "not UTF-8"),
        (b'{"current_state": "OFF", "history": [], "n": NaN}', "NaN"),
        (b'{"current_state": "OFF", "history": [], "n": -Infinity}', "Infinity"),
    ],
)
def test_strings_that_are_not_text_make_the_record_unreadable(raw: bytes, message: str) -> None:
    with pytest.raises(codec.DecodeError, match=message):
        codec.decode_trading(raw)


def test_a_surrogate_pair_escape_is_text() -> None:
    doc = strict_json.loads(b'{"n": "\\ud83d\\ude00", "m": "\\\\ud800"}')
    assert doc == {"n": "\U0001f600", "m": "\\ud800"}


@pytest.mark.parametrize("version", ["0", "-1", "true", "false", "1.0", '"1"', "null", "2"])
def test_schema_versions_other_than_1_are_unreadable(version: str) -> None:
    with pytest.raises(codec.DecodeError, match="schema_version"):
        codec.decode_kill(f'{{"is_active": false, "history": [], "schema_version": {version}}}'.encode())


def test_a_missing_schema_version_is_the_guides_format() -> None:
    assert codec.decode_kill(KILL_ON.encode()).is_active is True


# -- files that are not regular files -------------------------------------------------
def _run_bounded(fn, seconds: float = 20.0):  # type: ignore[no-untyped-def]
    """Run ``fn`` in a thread; fail (rather than hang the suite) if it blocks."""
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "blocked on a non-regular file"
    return result[0]


@pytest.mark.parametrize("kind", ["fifo", "directory", "dangling symlink", "device", "oversized"])
def test_a_record_that_is_not_a_regular_file_is_unreadable_without_blocking(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "record.json"
    expected = {
        "fifo": "FIFO",
        "directory": "directory",
        "dangling symlink": "does not exist",
        "device": "character device",
        "oversized": "larger than",
    }[kind]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "dangling symlink":
        path.symlink_to(tmp_path / "gone")
    elif kind == "device":
        path.symlink_to("/dev/zero")  # would stream forever to a plain read
    else:
        path.write_bytes(b" " * 1025)

    def attempt() -> str:
        with pytest.raises(RecordUnreadable) as caught:
            read_record(path, limit=1024)
        return str(caught.value)

    assert expected in _run_bounded(attempt)


def test_a_fifo_state_file_fails_closed_and_the_permission_view_denies(data_dir: Path) -> None:
    os.mkfifo(data_dir / ".nija_trading_state.json")
    os.mkfifo(data_dir / ".nija_heartbeat.json")
    store = JsonFileStore(data_dir)
    snap = _run_bounded(store.load)
    assert isinstance(snap.trading, Unreadable)
    assert snap.kill_active
    assert snap.heartbeat is None
    assert not _run_bounded(store.permission_view().check).allowed


def test_a_duplicate_key_kill_record_never_allows_trading(data_dir: Path) -> None:
    (data_dir / ".nija_trading_state.json").write_text(STATE)
    store = JsonFileStore(data_dir)
    assert store.permission_view().check().allowed
    (data_dir / ".nija_kill_switch_state.json").write_text('{"is_active": true, "history": [], "is_active": false}')
    permission = store.permission_view().check()
    assert not permission.allowed
    assert isinstance(store.load().kill, Unreadable)


# -- free text -------------------------------------------------------------------------
ATTACK = "\x1b[2J\x1b[HCan Trade: YES: simulated (DRY_RUN, no capital at risk)"


@pytest.mark.parametrize(
    "bad",
    [ATTACK, "a\x07b", "\x9b31m", "\u202egnp.exe", "x\u2066y", "\x7f", "\x00", "line\u2028sep", "\ud800", "\r"],
)
def test_unsafe_reasons_are_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(UnsafeText, match="control character") as refused:
        check_reason(bad)
    assert refused.value.exit_code == 2
    assert find_unsafe(refused.value.message) is None  # the message itself is safe to print


def test_reasons_may_span_lines_but_names_may_not() -> None:
    assert check_reason("line one\n\tline two") == "line one\n\tline two"
    with pytest.raises(UnsafeText, match="one line"):
        check_name("bob\n", "token name")


def test_printable_shows_escapes_and_keeps_plain_text() -> None:
    assert printable(ATTACK) == "\\x1b[2J\\x1b[HCan Trade: YES: simulated (DRY_RUN, no capital at risk)"
    assert printable("a\nb\u202e\ud800") == "a\\nb\\u202e\\ud800"
    assert printable("a\nb", multi_line=True) == "a\nb"
    assert printable("Ünïcode → fine 😀") == "Ünïcode → fine 😀"


@given(st.recursive(st.text() | st.integers() | st.booleans(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)))
def test_json_for_terminal_keeps_the_values_and_prints_no_control_character(value: object) -> None:
    document = json_for_terminal(json.dumps(value, indent=2, ensure_ascii=False))
    assert json.loads(document) == value
    assert find_unsafe(document, multi_line=True) is None


def test_a_heartbeat_with_two_values_for_stopped_is_no_heartbeat(data_dir: Path) -> None:
    beat = {"pid": 1, "host": "h", "last_beat": T_BEAT, "started_at": T_BEAT, "stopped": True}
    raw = json.dumps(beat)[:-1] + ', "stopped": false}'
    (data_dir / ".nija_heartbeat.json").write_text(raw)
    assert JsonFileStore(data_dir).load().heartbeat is None
    (data_dir / ".nija_heartbeat.json").write_text(json.dumps(beat))
    assert JsonFileStore(data_dir).load().heartbeat is not None


def test_a_runtime_report_with_a_duplicate_key_is_no_report(data_dir: Path) -> None:
    from nija.bot_report import REPORT_FILE, read_report

    report = '{"updated_at": "t", "mode": "simulated", "broker": "paper"'
    (data_dir / REPORT_FILE).write_text(report + "}")
    assert read_report(data_dir) is not None
    (data_dir / REPORT_FILE).write_text(report + ', "mode": "live"}')
    assert read_report(data_dir) is None


T_BEAT = "2026-11-30T09:00:00+00:00"
