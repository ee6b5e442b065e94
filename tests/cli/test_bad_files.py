"""Corrupt, truncated, empty, wrong-type and unknown files; read-only and full disks.

Each must give a clear error with its documented exit code, fail closed, and lose no
bytes: an unreadable record is kept in a ``.corrupt-*`` backup before it is replaced."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Run, cli_env

STATE = ".nija_trading_state.json"
KILL_STATE = ".nija_kill_switch_state.json"

GOOD_STATE = json.dumps(
    {
        "current_state": "DRY_RUN",
        "history": [{"from": "OFF", "to": "DRY_RUN", "reason": "x", "timestamp": "2026-02-17T22:01:15.133111"}],
        "last_updated": "2026-02-17T22:01:15.133120",
    }
)

BAD_CONTENTS = {
    "truncated": GOOD_STATE[: len(GOOD_STATE) // 2],
    "empty": "",
    "not_json": "current_state = DRY_RUN",
    "wrong_type": json.dumps(["DRY_RUN"]),
    "unknown_state": GOOD_STATE.replace('"current_state": "DRY_RUN"', '"current_state": "YOLO"'),
    "bad_timestamp": GOOD_STATE.replace("2026-02-17T22:01:15.133111", "yesterday"),
    "newer_schema": json.dumps({**json.loads(GOOD_STATE), "schema_version": 99}),
    "binary": "\x00\xff\xfe garbage",
    "huge_number": '{"current_state": "OFF", "history": [], "x": ' + "1" * 5000 + "}",
    "deep_nesting": "[" * 100_000 + "]" * 100_000,
}


def status(run: Run) -> dict:  # type: ignore[type-arg]
    return json.loads(run("safe_restore_trading.py", "status", "--json").stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(BAD_CONTENTS))
def test_unreadable_state_file_fails_closed_and_is_kept(run: Run, data_dir: Path, name: str) -> None:
    bad = BAD_CONTENTS[name].encode("latin-1")
    (data_dir / STATE).write_bytes(bad)
    result = run("safe_restore_trading.py", "status")
    assert result.returncode == 5
    assert "STATE_FILE_CORRUPT" in result.stdout
    report = status(run)
    assert report["state"] == "EMERGENCY_STOP"
    assert report["kill_switch"]["active"] is True
    assert report["can_trade"] is False
    # restore refuses and does not touch the bytes
    refused = run("safe_restore_trading.py", "restore", "--yes")
    assert refused.returncode == 3
    assert "unreadable" in refused.stderr
    assert (data_dir / STATE).read_bytes() == bad
    # activation must not rewrite it either
    assert run("emergency_kill_switch.py", "activate", "corrupt file seen").returncode == 0
    assert (data_dir / STATE).read_bytes() == bad
    # the operator's explicit deactivation repairs it, keeping the bad bytes in a backup
    repaired = run("emergency_kill_switch.py", "deactivate", "Inspected the corrupt file", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    backups = list(data_dir.glob(f"{STATE}.corrupt-*"))
    assert [b.read_bytes() for b in backups] == [bad]
    assert status(run)["state"] == "OFF"
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0


@pytest.mark.parametrize(
    "content",
    [
        '{"is_active": "false", "history": []}',
        "{",
        "null",
        '{"is_active": false, "history": [{"reason": 1, "timestamp": "x"}]}',
    ],
)
def test_unreadable_kill_record_means_active(run: Run, data_dir: Path, content: str) -> None:
    (data_dir / KILL_STATE).write_text(content)
    report = status(run)
    assert report["kill_switch"]["active"] is True
    assert "KILL_STATE_CORRUPT" in [i["code"] for i in report["inconsistencies"]]
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 3
    assert run("emergency_kill_switch.py", "deactivate", "checked it", "--yes").returncode == 0
    assert [b.read_text() for b in data_dir.glob(f"{KILL_STATE}.corrupt-*")] == [content]
    assert status(run)["kill_switch"]["active"] is False


def test_hand_edited_live_state_cannot_trade_live(run: Run, data_dir: Path) -> None:
    (data_dir / STATE).write_text(
        json.dumps(
            {
                "current_state": "LIVE_ACTIVE",
                "history": [{"from": "OFF", "to": "DRY_RUN", "reason": "x", "timestamp": "2026-02-17T22:00:00"}],
            }
        )
    )
    report = status(run)
    assert report["can_trade"] is False
    codes = [i["code"] for i in report["inconsistencies"]]
    assert "HISTORY_MISMATCH" in codes
    assert "LIVE_STATE_WITHOUT_BOT" in codes


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real, tiny tmpfs: it can be filled up and remounted read-only."""
    mountpoint = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    mountpoint.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mountpoint)):
        pytest.skip("needs root and mount to create a real small file system")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_read_only_file_system_is_reported_and_nothing_changes(run: Run, small_fs: Path) -> None:
    assert run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(small_fs)).returncode == 0
    before = (small_fs / STATE).read_bytes()
    assert _mount("-o", "remount,ro", str(small_fs))
    result = run("safe_restore_trading.py", "status", "--data-dir", str(small_fs))
    assert result.returncode == 5
    assert "FILE_NOT_WRITABLE" in result.stdout
    reset = run("safe_restore_trading.py", "reset", "--yes", "--data-dir", str(small_fs))
    assert reset.returncode == 4
    assert "read-only file system" in reset.stderr or "Cannot create the lock file" in reset.stderr
    assert "Traceback" not in reset.stderr
    assert (small_fs / STATE).read_bytes() == before


def fill_until_error(fd: int) -> None:
    while os.write(fd, b"\0" * 4096):
        pass


def test_disk_full_write_fails_cleanly_and_keeps_the_old_file(run: Run, small_fs: Path) -> None:
    assert run("safe_restore_trading.py", "restore", "--yes", "--data-dir", str(small_fs)).returncode == 0
    before = (small_fs / STATE).read_bytes()
    filler = small_fs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    with pytest.raises(OSError, match="No space left") as full:
        fill_until_error(fd)
    os.close(fd)
    assert full.value.errno == errno.ENOSPC
    result = run("safe_restore_trading.py", "reset", "--yes", "--data-dir", str(small_fs))
    assert result.returncode == 4, result.stdout + result.stderr
    assert "disk full" in result.stderr
    assert str(small_fs / STATE) in result.stderr
    assert (small_fs / STATE).read_bytes() == before
    assert not list(small_fs.glob("*.tmp"))
    filler.unlink()
    assert run("safe_restore_trading.py", "reset", "--yes", "--data-dir", str(small_fs)).returncode == 0


def test_files_without_write_permission_are_refused(run: Run, data_dir: Path) -> None:
    """Root ignores chmod; dropping CAP_DAC_OVERRIDE from the child makes it obey."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop capabilities")
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    os.chmod(data_dir / STATE, 0o444)
    os.chmod(data_dir, 0o555)
    try:
        command = [
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search,-fowner",
            sys.executable,
            str(REPO / "safe_restore_trading.py"),
        ]
        status = subprocess.run(
            [*command, "status", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=cli_env(),
            check=False,
        )
        assert status.returncode == 5
        assert "FILE_NOT_WRITABLE" in status.stdout
        assert "permission denied" in status.stdout
        reset = subprocess.run(
            [*command, "reset", "--yes", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=cli_env(),
            check=False,
        )
        assert reset.returncode == 4, reset.stdout + reset.stderr
        assert "permission denied" in reset.stderr.lower()
        assert "chmod 644" in reset.stderr
        assert "Traceback" not in reset.stderr
    finally:
        os.chmod(data_dir, 0o755)
    assert json.loads((data_dir / STATE).read_text())["current_state"] == "DRY_RUN"
