"""A kill works even while another process holds the store's lock (or is hung)."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

from nija.store.json_files import JsonFileStore
from tests.conftest import Run


@pytest.mark.process
def test_kill_is_effective_while_the_lock_is_held(run: Run, data_dir: Path) -> None:
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    view = JsonFileStore(data_dir).permission_view()
    assert view.check().allowed
    fd = os.open(data_dir / ".nija.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a hung process holding the lock
    try:
        result = run("emergency_kill_switch.py", "activate", "hung writer", env={"NIJA_LOCK_TIMEOUT": "0.3"})
        assert result.returncode == 4
        assert "kill switch IS ACTIVE" in result.stderr
        assert not view.check().allowed  # every reader sees it at once
        report = json.loads(run("safe_restore_trading.py", "status", "--json").stdout)
        assert report["kill_switch"]["active"] is True
        assert report["can_trade"] is False
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    # once the lock is free, the kill is recorded; deleting the file then deactivates nothing
    assert run("emergency_kill_switch.py", "activate", "hung writer").returncode == 0
    (data_dir / "EMERGENCY_STOP").unlink()
    assert not view.check().allowed


def test_bad_lock_timeout_setting_is_a_usage_error(run: Run) -> None:
    result = run("safe_restore_trading.py", "status", env={"NIJA_LOCK_TIMEOUT": "soon"})
    assert result.returncode == 2
    assert "NIJA_LOCK_TIMEOUT" in result.stderr
