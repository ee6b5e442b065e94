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
