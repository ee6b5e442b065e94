"""What a review found at the edges of the fast paths (and around them): a message must
not say a recorded kill is unrecorded, a closed pipe ends the command quietly, a stream
left at ASCII still gets the JSON's true values, and no message claims a kill file where
there is none."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Run, cli_env

KILL, RESTORE = "emergency_kill_switch.py", "safe_restore_trading.py"


def _process(
    script: str, *args: str, stdout: int | None = subprocess.PIPE, **env: str
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, str(REPO / script), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=cli_env(**env),
        timeout=120,
        check=False,
    )


def _kills(data_dir: Path) -> list[dict[str, object]]:
    doc = json.loads((data_dir / ".nija_kill_switch_state.json").read_text())
    return list(doc["history"])


@pytest.mark.process
def test_an_activation_whose_message_cannot_be_written_does_not_call_its_kill_unrecorded(data_dir: Path) -> None:
    """stdout is /dev/full: the kill is raised and recorded, only the message fails."""
    with open("/dev/full", "wb") as full:
        result = _process(KILL, "activate", "disk", "full", "--data-dir", str(data_dir), stdout=full.fileno())
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "No space left on device" in err
    assert "not recorded yet" not in err
    [activation] = _kills(data_dir)
    assert activation["reason"] == "disk full"


@pytest.mark.process
@pytest.mark.parametrize("args", [("status", "--json"), ("status",)])
def test_a_status_whose_reader_left_ends_with_exit_1_and_no_traceback(data_dir: Path, args: tuple[str, ...]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command starts: every write meets EPIPE
    try:
        result = _process(RESTORE, *args, "--data-dir", str(data_dir), stdout=write)
    finally:
        os.close(write)
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "Traceback" not in err
    assert "Exception ignored" not in err


@pytest.mark.process
def test_json_on_a_stream_left_at_ascii_keeps_its_values(run: Run, data_dir: Path) -> None:
    assert run(KILL, "activate", "café ☕ stop").returncode == 0  # not plain ASCII: click's path
    for script, args in ((RESTORE, ("status", "--json")), (KILL, ("history", "--json"))):
        result = _process(script, *args, "--data-dir", str(data_dir), PYTHONIOENCODING="ascii")
        assert result.returncode == 0, result.stderr
        assert "café ☕ stop" in result.stdout.decode("utf-8"), script


def test_a_missing_data_directory_claims_no_kill_file(run: Run, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    status = run(RESTORE, "status", "--data-dir", missing)
    assert status.returncode == 4
    assert "does not exist" in status.stderr
    assert "EMERGENCY_STOP is in force" not in status.stderr
    activation = run(KILL, "activate", "drill", "--data-dir", missing)
    assert activation.returncode == 4
    assert "THE KILL IS NOT IN FORCE" in activation.stderr
    assert "EMERGENCY_STOP is in force" not in activation.stderr


def test_a_file_given_as_a_directory_with_a_slash_claims_no_kill(run: Run, tmp_path: Path) -> None:
    """``afile/``: click lets it through (it does not exist as a directory); no kill file can."""
    file = tmp_path / "afile"
    file.write_text("")
    result = run(KILL, "activate", "drill", "--data-dir", f"{file}/")
    assert result.returncode == 4
    assert "THE KILL IS NOT IN FORCE" in result.stderr
    assert "IS ACTIVE" not in result.stderr


@pytest.fixture
def unreadable_dir() -> Iterator[Path]:
    """A data directory its user may write and enter but not read (mode 333), for nobody."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a command as another user")
    base = Path(tempfile.mkdtemp(prefix="nija-unreadable-", dir="/tmp"))
    base.chmod(0o755)
    path = base / "data"
    path.mkdir()
    os.chown(path, 65534, 65534)
    path.chmod(0o333)
    try:
        yield path
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.process
@pytest.mark.parametrize("args", [("status",), ("activate", "drill")])
def test_an_unreadable_data_directory_is_clicks_usage_error_and_nothing_is_written(
    unreadable_dir: Path, args: tuple[str, ...]
) -> None:
    script = RESTORE if args[0] == "status" else KILL
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    result = subprocess.run(
        [*as_nobody, sys.executable, str(REPO / script), *args, "--data-dir", str(unreadable_dir)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is not readable" in result.stderr
    unreadable_dir.chmod(0o755)
    assert list(unreadable_dir.iterdir()) == []
