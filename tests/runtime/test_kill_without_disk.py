"""A kill reaches a running bot even when the kill cannot be written to disk: a read-only
file system, a full one, or no permission. ``kill activate`` then tells the bot directly
(no disk write), the bot stops trading and acknowledges, and the message says exactly
where the kill is in force; exit 4, because a kill held only in memory is not "done"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.bot_report import read_report
from nija.domain.transitions import Who
from tests.conftest import REPO, cli_env
from tests.runtime.runtime_helpers import wait_for
from tests.runtime.test_kill_process import RESTING, open_orders, start_bot

# One worker for the tests that mount a tmpfs for a running bot and kill it directly (also
# tests/guard/test_guard_direct_kill.py and tests/compat/test_original_callers.py, which
# use bot_fs: a fixture does not carry this mark). Two once failed on 4 workers under load
# ("the kill reached no bot"): the command then waited 5 s for a bot that answers after up
# to 3 s of cancelling (now 15 s, every bot told at once).
TMPFS_KILL_CHANNEL = pytest.mark.xdist_group("tmpfs-kill-channel")
pytestmark = [pytest.mark.slow, TMPFS_KILL_CHANNEL]


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


def _mount_point(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


@pytest.fixture
def bot_fs(tmp_path: Path) -> Iterator[Path]:
    """A real small tmpfs for the bot's data directory."""
    path = _mount_point(tmp_path, "fs")
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=8m,nr_inodes=400", "tmpfs", str(path)):
        pytest.skip("needs root and mount to create a real small file system")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def kill_activate(data_dir: Path, reason: str, *prefix: str) -> subprocess.CompletedProcess[str]:
    script = str(REPO / "emergency_kill_switch.py")
    return subprocess.run(
        [*prefix, sys.executable, script, "activate", "--data-dir", str(data_dir), reason],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )


def steady_rise(path: Path, candles: int = 60_000) -> Path:
    """A price that only rises: the crossover places one entry, far below, that never fills
    and is never cancelled, so the bot writes nothing more of its own until the kill. On
    the sample feed it places and cancels entries all along, and on a full disk its ledger
    write could end it (exit 4) before the kill reached it: a race the test must not run."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    rows += [f"{1_767_225_600 + 60 * i},BTC/USDT,{100 + i},{100.5 + i},{99.5 + i},{100 + i},1" for i in range(candles)]
    path.write_text("\n".join(rows) + "\n")
    return path


def running_bot(data_dir: Path) -> subprocess.Popen[str]:
    """A DRY_RUN bot with one resting order; its feed lies outside ``data_dir`` (the small
    file system the tests fill)."""
    (data_dir / "nija.toml").write_text(RESTING)
    build_service(data_dir).restore(Who("alice@host", "cli"))
    bot = start_bot(data_dir, "--feed", str(steady_rise(data_dir.parent / f"feed-{data_dir.name}.csv")))
    wait_for(lambda: open_orders(data_dir) >= 1, what="an open limit order")
    return bot


def stop(bot: subprocess.Popen[str]) -> dict[str, object]:
    bot.send_signal(signal.SIGTERM)
    out, err = bot.communicate(timeout=30)
    assert bot.returncode == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def ended(bot: subprocess.Popen[str]) -> tuple[str, str]:
    """Let a bot that is ending by itself end; else stop it."""
    try:
        return bot.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        bot.send_signal(signal.SIGTERM)
        return bot.communicate(timeout=30)


def assert_stopped_in_memory(result: subprocess.CompletedProcess[str], bot: subprocess.Popen[str]) -> None:
    """The bot told directly stops; whether it also recorded the kill (from its own, writable
    access) before the command looked again is a race between two processes: either truth."""
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"Trading is stopped in pid {bot.pid}" in result.stderr
    in_memory = "but the kill could not be written to disk" in result.stderr and "only in the memory" in result.stderr
    recorded_by_the_bot = "The kill switch IS ACTIVE in" in result.stderr
    assert in_memory or recorded_by_the_bot, result.stderr
    assert "Traceback" not in result.stderr


def test_read_only_file_system_the_kill_reaches_the_running_bot(bot_fs: Path, tmp_path: Path) -> None:
    """The operator's view of the directory is a read-only mount (EROFS) of the bot's."""
    bot = running_bot(bot_fs)
    view = _mount_point(tmp_path, "ro")
    try:
        assert _mount("--bind", str(bot_fs), str(view))
        assert _mount("-o", "remount,bind,ro", str(view))
        result = kill_activate(view, "disk is read-only")
        assert_stopped_in_memory(result, bot)
        assert "read-only file system" in result.stderr
        # The bot cancelled its orders before answering; it keeps running and is denied.
        wait_for(lambda: open_orders(bot_fs) == 0, what="every order cancelled")
        assert bot.poll() is None
        # The bot's own path to the directory is writable: it records the kill it holds.
        wait_for(lambda: (bot_fs / "EMERGENCY_STOP").exists(), what="the kill recorded by the bot")
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
        summary = stop(bot)
    assert "sent directly" in str(summary["kill"])
    assert summary["kill_complete"] is True
    assert summary["denials"].get("KILL_SWITCH_ACTIVE", 0) > 0  # type: ignore[attr-defined]


def test_no_permission_to_write_the_kill_reaches_the_running_bot_which_records_it_later(data_dir: Path) -> None:
    bot = running_bot(data_dir)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    if os.geteuid() != 0:
        pytest.skip("needs root to drop capabilities")
    os.chmod(data_dir, 0o555)
    try:
        result = kill_activate(data_dir, "no write permission", *drop)
        assert_stopped_in_memory(result, bot)
        assert "permission denied" in result.stderr
        wait_for(lambda: open_orders(data_dir) == 0, what="every order cancelled")
        report = read_report(data_dir)
        assert report is not None
        assert bot.poll() is None
    finally:
        os.chmod(data_dir, 0o755)

    # The bot itself can write (it runs as root): it records the kill it holds in memory.
    def recorded() -> bool:
        kills = build_service(data_dir).history()[1]
        return bool(kills) and kills[-1].reason == "no write permission"

    wait_for(recorded, what="the kill recorded by the bot")
    assert build_service(data_dir).snapshot().kill_active
    summary = stop(bot)
    assert summary["kill_complete"] is True


def fill(directory: Path) -> None:
    """Fill the file system: first its blocks, then its inodes."""
    with (directory / "filler").open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    n = 0
    try:
        while True:
            (directory / f"inode-{n}").touch()
            n += 1
    except OSError:
        pass


def test_full_file_system_the_kill_reaches_the_running_bot(bot_fs: Path) -> None:
    """Blocks and inodes all used: not even an empty kill file can be created."""
    bot = running_bot(bot_fs)
    try:
        fill(bot_fs)
        result = kill_activate(bot_fs, "disk is full")
        assert_stopped_in_memory(result, bot)
        assert "disk full" in result.stderr
        assert not (bot_fs / "EMERGENCY_STOP").exists()
    finally:
        out, err = ended(bot)
    # The paper ledger cannot be written on a full disk either: the bot may end on that by
    # itself (exit 4, named), or stop on SIGTERM with the direct kill in its summary.
    if bot.returncode == 4:
        assert "paper ledger" in out + err
        assert "disk is full" in out + err
    else:
        assert bot.returncode == 0, err
        assert "sent directly" in str(json.loads(out)["kill"])


def test_full_disk_with_a_free_inode_the_empty_kill_file_is_in_force_and_says_so(bot_fs: Path) -> None:
    bot = running_bot(bot_fs)
    try:
        with (bot_fs / "filler").open("wb") as out:  # blocks only: an empty file can still be created
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        result = kill_activate(bot_fs, "disk is full")
        said = result.stdout + result.stderr
        # The running bot frees a little space now and then (its report's temp files): the
        # record may fit (exit 0) or not (exit 4); either way the message says it is in force.
        assert result.returncode in (0, 4), said
        assert "EMERGENCY_STOP exists, so the kill IS IN FORCE" in said
        assert "EMERGENCY_STOP: no space left on device (disk full); that file is unchanged" not in said
        if result.returncode == 4:
            assert "The kill switch IS ACTIVE" in result.stderr
        assert (bot_fs / "EMERGENCY_STOP").exists()
        wait_for(lambda: build_service(bot_fs).permission_view().check().allowed is False)
    finally:
        _, err = ended(bot)
    assert bot.returncode in (0, 4), err  # 4: its paper ledger could not be written on the full disk


def test_when_no_bot_runs_the_message_says_the_kill_is_not_in_force(data_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to drop capabilities")
    os.chmod(data_dir, 0o555)
    try:
        result = kill_activate(
            data_dir, "nobody listening", "setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"
        )
    finally:
        os.chmod(data_dir, 0o755)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "THE KILL IS NOT IN FORCE" in result.stderr
    assert "Stop the bot process yourself" in result.stderr


def test_a_whole_file_system_remounted_read_only_without_a_bot_says_the_kill_is_not_in_force(bot_fs: Path) -> None:
    """A running bot holds its ledger open for writing, so the kernel refuses to remount
    its file system read-only (EBUSY); the bot case uses a read-only view of it instead."""
    build_service(bot_fs).restore(Who("alice@host", "cli"))
    assert _mount("-o", "remount,ro", str(bot_fs))
    result = kill_activate(bot_fs, "disk went read-only")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "THE KILL IS NOT IN FORCE" in result.stderr
    assert "read-only file system" in result.stderr
    assert "Traceback" not in result.stderr
    status = subprocess.run(
        [sys.executable, str(REPO / "safe_restore_trading.py"), "status", "--json", "--data-dir", str(bot_fs)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    assert json.loads(status.stdout)["state"] == "DRY_RUN"  # nothing pretends otherwise
