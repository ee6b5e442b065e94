"""Deactivation removes only the kill file it saw: a kill raised meanwhile survives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nija.domain import killswitch
from nija.domain.errors import SafetyRefusal
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore
from nija.testing import FakeClock

WHO = Who("t", "test")


def test_kill_file_touched_during_deactivation_is_kept(data_dir: Path) -> None:
    store = JsonFileStore(data_dir)
    service = SafetyService(store, clock=FakeClock())
    service.activate_kill("first", WHO)
    kill_file = data_dir / "EMERGENCY_STOP"
    with store.transaction() as tx:
        change = killswitch.deactivate(tx.snapshot, "fixed", WHO, FakeClock()())
        stat = kill_file.stat()
        os.utime(kill_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # someone touches it now
        with pytest.raises(SafetyRefusal, match="new kill arrived"):
            tx.commit(change)
    assert kill_file.exists()
    assert service.status().kill_active
    assert not list(data_dir.glob(".EMERGENCY_STOP.*"))


def test_kill_file_recreated_during_deactivation_is_kept(data_dir: Path) -> None:
    store = JsonFileStore(data_dir)
    service = SafetyService(store, clock=FakeClock())
    service.activate_kill("first", WHO)
    kill_file = data_dir / "EMERGENCY_STOP"
    keep_inode_busy = data_dir / "holder"
    with store.transaction() as tx:
        change = killswitch.deactivate(tx.snapshot, "fixed", WHO, FakeClock()())
        os.link(kill_file, keep_inode_busy)  # so the new file cannot reuse the old inode number
        kill_file.unlink()
        kill_file.write_text("new kill\n")
        with pytest.raises(SafetyRefusal):
            tx.commit(change)
    assert kill_file.read_text() == "new kill\n"
    assert service.status().kill_active


def test_plain_deactivation_removes_the_kill_file(data_dir: Path) -> None:
    service = SafetyService(JsonFileStore(data_dir), clock=FakeClock())
    service.activate_kill("first", WHO)
    service.deactivate_kill("fixed", WHO)
    assert not (data_dir / "EMERGENCY_STOP").exists()
    assert not service.status().kill_active


def _bytes(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data_dir.iterdir()) if p.name.startswith(".nija_") and p.is_file()}


def test_a_touch_after_the_look_refuses_the_deactivation_and_writes_nothing(data_dir: Path) -> None:
    service = SafetyService(JsonFileStore(data_dir), clock=FakeClock())
    service.restore(WHO)
    service.activate_kill("first", WHO)
    kill_file = data_dir / "EMERGENCY_STOP"
    seen = service.kill_seen()  # what the operator looked at
    stat = kill_file.stat()
    os.utime(kill_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # `touch EMERGENCY_STOP`
    before = _bytes(data_dir)
    with pytest.raises(SafetyRefusal) as refused:
        service.deactivate_kill("fixed", WHO, expected=seen)
    assert refused.value.code == "STATE_CHANGED"
    assert _bytes(data_dir) == before  # nothing written: no OFF transition, no deactivation entry
    assert kill_file.stat().st_mtime_ns == stat.st_mtime_ns + 1_000_000
    assert service.status().kill_active


def test_a_touch_between_the_last_check_and_the_grab_refuses_with_nothing_written(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrowest window: the kill file is touched after it was compared, before it is taken."""
    service = SafetyService(JsonFileStore(data_dir), clock=FakeClock())
    service.restore(WHO)
    service.activate_kill("first", WHO)
    kill_file = data_dir / "EMERGENCY_STOP"
    before = _bytes(data_dir)
    real_rename = os.rename

    def touch_then_rename(src: object, dst: object) -> None:
        if str(src) == str(kill_file):
            st = kill_file.stat()
            os.utime(kill_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", touch_then_rename)
    with pytest.raises(SafetyRefusal) as refused:
        service.deactivate_kill("fixed", WHO)
    monkeypatch.undo()
    assert refused.value.code == "KILL_RAISED_DURING_DEACTIVATION"
    assert _bytes(data_dir) == before
    assert kill_file.exists()
    assert not list(data_dir.glob(".EMERGENCY_STOP*"))


def test_the_look_waits_out_the_clock_tick_so_a_later_touch_is_always_seen(data_dir: Path) -> None:
    from nija.store import kill_file

    for _ in range(20):
        path = data_dir / "EMERGENCY_STOP"
        path.write_text("")
        seen = kill_file.inspect(data_dir, settle=True)
        os.utime(path)  # a touch right after the look, with the kernel's (coarse) clock
        now = kill_file.inspect(data_dir)
        assert seen is not None
        assert now is not None
        assert seen.identity != now.identity
        path.unlink()


def test_raising_onto_a_dangling_symlink_never_creates_its_target(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (data_dir / "EMERGENCY_STOP").symlink_to(target)
    service = SafetyService(JsonFileStore(data_dir), clock=FakeClock())
    assert service.status().kill_active  # a dangling link is a kill
    service.activate_kill("x", WHO)
    assert not target.exists()
    assert (data_dir / "EMERGENCY_STOP").is_symlink()


def test_a_touch_that_opened_the_file_before_the_grab_and_lands_after_it_is_refused(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`touch` opens the kill file, then sets its time: here the open comes before the
    deactivation takes the file and the time lands while the records are being written."""
    from nija.store import json_files

    service = SafetyService(JsonFileStore(data_dir), clock=FakeClock())
    service.restore(WHO)
    service.activate_kill("first", WHO)
    kill_file = data_dir / "EMERGENCY_STOP"
    before = _bytes(data_dir)
    touch_fd = os.open(kill_file, os.O_WRONLY)  # touch, part one
    real_write = json_files.write_atomic  # type: ignore[attr-defined]
    landed: list[bool] = []

    def write_then_touch_lands(path: Path, data: bytes, **kwargs: object) -> None:
        real_write(path, data, **kwargs)  # type: ignore[arg-type]
        if not landed:
            landed.append(True)
            st = os.fstat(touch_fd)
            os.utime(touch_fd, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # touch, part two

    monkeypatch.setattr(json_files, "write_atomic", write_then_touch_lands)
    try:
        with pytest.raises(SafetyRefusal) as refused:
            service.deactivate_kill("fixed", WHO)
    finally:
        os.close(touch_fd)
    monkeypatch.undo()
    assert refused.value.code == "KILL_RAISED_DURING_DEACTIVATION"
    assert _bytes(data_dir) == before  # the records written meanwhile were put back
    assert kill_file.exists()
    assert not list(data_dir.glob(".EMERGENCY_STOP*"))
    assert service.status().kill_active
