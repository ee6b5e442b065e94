"""The kill file's name never appears before its cause: a watcher reading a NIJA-raised
kill file always finds who raised it and why, never an empty file it would record as a
bare kill. Checked at the one moment that matters (each write of the cause), with real
files; the fallbacks (no hard links, a full disk) still raise the kill."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nija.domain.errors import KillFileNotWritten
from nija.domain.transitions import Who
from nija.store import kill_file, kill_raise

WHO = Who("alice@host", "cli")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def names_seen_while_writing(monkeypatch: pytest.MonkeyPatch, directory: Path) -> list[bool]:
    """For every write of the kill file's bytes: was the name EMERGENCY_STOP visible then?"""
    seen: list[bool] = []
    real_write = os.write

    def write(fd: int, data: bytes | memoryview) -> int:
        seen.append(os.path.lexists(directory / kill_raise.KILL_FILE))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return seen


def test_the_cause_is_written_before_the_name_appears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = names_seen_while_writing(monkeypatch, tmp_path)
    kill_file.raise_file(tmp_path, "drill", WHO, NOW)
    assert seen == [False]
    flag = kill_file.inspect(tmp_path)
    assert flag is not None
    assert flag.raised is not None
    assert flag.raised.reason == "drill"
    assert [p.name for p in tmp_path.iterdir()] == [kill_raise.KILL_FILE]  # the staged name is gone


def test_without_hard_links_the_file_is_created_in_place_with_its_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    kill_file.raise_file(tmp_path, "drill", WHO, NOW)
    flag = kill_file.inspect(tmp_path)
    assert flag is not None
    assert flag.raised is not None
    assert flag.raised.reason == "drill"
    assert [p.name for p in tmp_path.iterdir()] == [kill_raise.KILL_FILE]


def test_a_disk_too_full_for_the_cause_still_raises_the_kill_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_fd: int, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(KillFileNotWritten) as raised:
        kill_file.raise_file(tmp_path, "drill", WHO, NOW)
    assert raised.value.in_force
    assert "IS IN FORCE" in raised.value.message
    assert kill_file.exists(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [kill_raise.KILL_FILE]


def test_an_existing_kill_file_keeps_its_first_cause(tmp_path: Path) -> None:
    kill_file.raise_file(tmp_path, "first", WHO, NOW)
    kill_file.raise_file(tmp_path, "second", WHO, NOW)
    flag = kill_file.inspect(tmp_path)
    assert flag is not None
    assert flag.raised is not None
    assert flag.raised.reason == "first"
    assert [p.name for p in tmp_path.iterdir()] == [kill_raise.KILL_FILE]
