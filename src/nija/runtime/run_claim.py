"""One bot per data directory, whatever its fleet scope: two bots in one directory would
share the paper ledger, the heartbeat, the report and the record of the orders and
positions they own (a kill of one would cancel the other's orders, its flatten sell the
other's holdings).

On one host an flock on ``.nija_run.lock`` decides, race-free, and the kernel drops it
when the holder dies, so a crashed bot's claim is taken over (and said so). Across hosts
(the fleet store) a fresh heartbeat from another host refuses the second bot."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from nija.domain.diagnosis import HEARTBEAT_MAX_AGE
from nija.domain.errors import BotAlreadyRunning, StorageNotWritable
from nija.domain.records import Heartbeat, future_beat_words

LOCK_FILE = ".nija_run.lock"


@contextlib.contextmanager
def no_bot_running(directory: Path) -> Iterator[None]:
    """For a maintenance step that must not race a running bot: the claim (and the per-scope
    claims of NIJA versions before one bot per directory), held only meanwhile."""
    held: list[int] = []
    try:
        for path in [directory / LOCK_FILE, *sorted(directory.glob(".nija_run.*.lock"))]:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            held.append(fd)
            _take_or_refuse(fd, fcntl.LOCK_EX, f"A bot is running on {directory}", "then run this again")
        yield
    finally:
        for fd in held:
            os.close(fd)


def hold_run_claim(directory: Path, *, bot: str | None, heartbeat: Heartbeat | None, now: datetime) -> str:
    """Claim the run for the rest of this process (the kernel releases it at exit); refuse
    (exit 3) if another bot holds it. Returns what to say about a dead bot's claim, or ""."""
    path = directory / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StorageNotWritable(
            f"Cannot create the run lock {path}: {exc.strerror}",
            f"Make {directory} writable by the user running the bot",
        ) from exc
    try:
        _take_or_refuse(
            fd, fcntl.LOCK_EX, f"Another bot is already running on {directory}", "or give this bot its own --data-dir"
        )
        _refuse_a_bot_of_an_older_version(directory)
        _refuse_a_live_bot_elsewhere(heartbeat, now)
    except BotAlreadyRunning:
        os.close(fd)
        raise
    previous = _holder(fd)
    _write_holder(fd, bot)
    atexit.register(_release, fd)
    if not previous:
        return ""
    return (
        f"Took over the run lock of a bot that is no longer running ({_describe(previous)}); "
        "this run continues its paper account"
    )


def _release(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)  # a clean exit leaves no claim to take over
        os.close(fd)


def _refuse_a_bot_of_an_older_version(directory: Path) -> None:
    """NIJA versions before one bot per directory claimed per fleet scope
    (``.nija_run.NAME.lock``): during an upgrade such a bot may still run here."""
    for path in sorted(directory.glob(".nija_run.*.lock")):
        try:  # non-blocking: a FIFO by that name must not hang the start
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue  # not a claim of any version
            _take_or_refuse(
                fd,
                fcntl.LOCK_SH,
                f"A bot of an older NIJA version is running on {directory}",
                "or give this bot its own --data-dir",
            )
        finally:
            os.close(fd)


def _take_or_refuse(fd: int, how: int, running: str, then: str) -> None:
    """Lock ``fd`` (``how``) without waiting, else refuse naming the process that holds it."""
    try:
        fcntl.flock(fd, how | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        raise BotAlreadyRunning(
            f"{running}: {_describe(holder)}",
            f"Stop it first (kill -TERM {holder.get('pid', '<pid>')} on its host), {then}",
        ) from None


def _refuse_a_live_bot_elsewhere(heartbeat: Heartbeat | None, now: datetime) -> None:
    # A beat from the future may be a bot on a clock that runs ahead: it counts as running.
    if heartbeat is None or not heartbeat.may_be_running(now, HEARTBEAT_MAX_AGE):
        return
    if heartbeat.host == socket.gethostname():
        return  # the flock, held by nobody here, is the truth on this host
    if heartbeat.from_the_future(now):
        raise BotAlreadyRunning(
            f"Another bot may be running on this scope: pid {heartbeat.pid} on host {heartbeat.host}; "
            f"{future_beat_words(heartbeat.last_beat, now)}, so whether it runs cannot be told",
            f"Synchronise the clocks (NTP) of this host and {heartbeat.host}, and stop that bot if it runs",
        )
    raise BotAlreadyRunning(
        f"Another bot is alive on this scope: pid {heartbeat.pid} on host {heartbeat.host} "
        f"(last heartbeat {heartbeat.last_beat.isoformat(timespec='seconds')})",
        f"Stop it first; if it is dead, its heartbeat expires within {HEARTBEAT_MAX_AGE.total_seconds():g} s",
    )


def _holder(fd: int) -> dict[str, object]:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw) if raw else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_holder(fd: int, bot: str | None) -> None:
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": datetime.now(UTC).isoformat()}
    if bot:
        holder["bot"] = bot
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)
    os.fsync(fd)


def _describe(holder: dict[str, object]) -> str:
    if not holder:
        return "a process whose details are unknown"
    scope = f"bot {holder['bot']}, " if holder.get("bot") else ""
    return f"{scope}pid {holder.get('pid')} on host {holder.get('host')}, started {holder.get('started_at')}"
