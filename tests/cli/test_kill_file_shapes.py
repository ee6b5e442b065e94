"""Any directory entry named EMERGENCY_STOP is a kill, whatever it is, and every NIJA
command that sees an unrecorded one records it at once (status included)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

KILL = "emergency_kill_switch.py"
RESTORE = "safe_restore_trading.py"
RECORDS = (".nija_trading_state.json", ".nija_kill_switch_state.json")


def records(data_dir: Path) -> dict[str, bytes]:
    return {name: (data_dir / name).read_bytes() for name in RECORDS if (data_dir / name).exists()}


def test_touch_then_status_then_rm_leaves_the_kill_in_force(run: Run, data_dir: Path) -> None:
    assert run(RESTORE, "restore", "--yes").returncode == 0
    (data_dir / "EMERGENCY_STOP").touch()
    status = run(RESTORE, "status", "--json")
    assert json.loads(status.stdout)["kill_switch"]["active"] is True
    (data_dir / "EMERGENCY_STOP").unlink()
    report = json.loads(run(RESTORE, "status", "--json").stdout)
    assert report["kill_switch"]["active"] is True  # `status` recorded it: rm deactivated nothing
    assert report["state"] == "EMERGENCY_STOP"
    assert report["can_trade"] is False
    assert run(RESTORE, "restore", "--yes").returncode == 3


def _directory(path: Path) -> str:
    path.mkdir()
    (path / "note.txt").write_text("stop\n")
    return "directory"


def _symlink(path: Path) -> str:
    target = path.with_name("target")
    target.write_text("")
    path.symlink_to(target)
    return "symbolic link"


def _dangling(path: Path) -> str:
    path.symlink_to(path.with_name("nowhere"))
    return "dangling symbolic link"


def _fifo(path: Path) -> str:
    os.mkfifo(path)
    return "named pipe (FIFO)"


def _socket(path: Path) -> str:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return "socket"


SHAPES: dict[str, Callable[[Path], str]] = {
    "directory": _directory,
    "symlink": _symlink,
    "dangling_symlink": _dangling,
    "fifo": _fifo,
    "socket": _socket,
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_kind_of_entry_is_a_kill_and_deactivate_explains_how_to_remove_it(
    run: Run, data_dir: Path, shape: str
) -> None:
    assert run(RESTORE, "restore", "--yes").returncode == 0
    kind = SHAPES[shape](data_dir / "EMERGENCY_STOP")
    status = run(RESTORE, "status", "--json", timeout=20)  # a FIFO must not block anything
    report = json.loads(status.stdout)
    assert report["kill_switch"]["active"] is True
    assert report["can_trade"] is False
    assert report["state"] == "EMERGENCY_STOP"  # recorded at once
    assert report["kill_switch"]["reason"].startswith("Kill file EMERGENCY_STOP found")
    before = records(data_dir)
    refused = run(KILL, "deactivate", "--yes", "fixed", timeout=20)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"is a {kind}, not a regular file" in refused.stderr
    assert "nothing was written" in refused.stderr
    assert "stays ACTIVE" in refused.stderr
    assert ("rm -r" if shape == "directory" else "rm ") in refused.stderr
    assert "Traceback" not in refused.stderr
    assert records(data_dir) == before
    again = run(KILL, "deactivate", "--yes", "fixed", timeout=20)  # no loop of half-done writes either
    assert again.returncode == 3
    assert records(data_dir) == before
    # The operator removes it as told; the recorded kill still needs its deactivation.
    entry = data_dir / "EMERGENCY_STOP"
    if shape == "directory":
        (entry / "note.txt").unlink()
        entry.rmdir()
    else:
        entry.unlink()
    assert json.loads(run(KILL, "status", "--json").stdout)["active"] is True
    done = run(KILL, "deactivate", "--yes", "fixed")
    assert done.returncode == 0, done.stderr
    assert json.loads(run(KILL, "status", "--json").stdout)["active"] is False


def test_activate_onto_a_non_regular_entry_leaves_it_and_records_the_kill(run: Run, data_dir: Path) -> None:
    os.mkfifo(data_dir / "EMERGENCY_STOP")
    result = run(KILL, "activate", "drill", timeout=20)
    assert result.returncode == 0, result.stderr
    assert (data_dir / "EMERGENCY_STOP").is_fifo()
    assert json.loads(run(KILL, "status", "--json", timeout=20).stdout)["active"] is True
