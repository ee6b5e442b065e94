"""The kill file EMERGENCY_STOP: any directory entry by that name is a kill.

Inspected with lstat (never following a link: a dangling symlink is a kill too) and read
only when it is a regular file, without blocking and only its first few KiB. Its identity
(inode, mtime, size, kind) is part of what an operator saw before deactivating, so a
touch or a new file afterwards refuses the deactivation."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from nija.domain.errors import KillFileNotWritten
from nija.domain.permission import Permission
from nija.domain.records import KillAction, KillEvent, KillFlag, KillFlagKind, Snapshot
from nija.domain.text import printable
from nija.domain.transitions import Who
from nija.store import kill_raise
from nija.store.atomic import not_writable
from nija.store.kill_raise import KILL_FILE as KILL_FILE

# Where a deactivation puts the kill file it removes, until the records say inactive:
# readers count it as a kill, and the next writer puts it back if its remover died.
REMOVING = f".{KILL_FILE}.removing"
_MAX_BODY = 4096
# What a gate answers while the kill file exists (every store's view that watches one).
KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "the kill file EMERGENCY_STOP exists")
# File timestamps come from the kernel's coarse clock: a touch within one tick of the
# last change would leave the same mtime. Looking waits until that tick has passed.
try:
    _TICK_NS = max(int(time.clock_getres(5) * 1e9), 1_000_000)  # 5: CLOCK_REALTIME_COARSE
except OSError:
    _TICK_NS = 10_000_000


def kind_of(mode: int) -> KillFlagKind:
    if stat.S_ISREG(mode):
        return KillFlagKind.FILE
    if stat.S_ISDIR(mode):
        return KillFlagKind.DIRECTORY
    if stat.S_ISLNK(mode):
        return KillFlagKind.SYMLINK
    if stat.S_ISFIFO(mode):
        return KillFlagKind.FIFO
    if stat.S_ISSOCK(mode):
        return KillFlagKind.SOCKET
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return KillFlagKind.DEVICE
    return KillFlagKind.OTHER


def identity(st: os.stat_result) -> str:
    return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}:{kind_of(st.st_mode)}"


def exists(directory: Path) -> bool:
    """The cheap check for the order gate: two lstat calls, nothing followed, nothing read."""
    for name in (KILL_FILE, REMOVING):
        try:
            os.lstat(directory / name)
        except (FileNotFoundError, NotADirectoryError):  # no such entry (the "directory" is a file)
            continue
        except OSError:
            return True  # exists but cannot be inspected: still a kill
        return True
    return False


def inspect(directory: Path, *, settle: bool = False) -> KillFlag | None:
    """The kill flag in ``directory``, if any. ``settle``: wait out a change made within the
    current clock tick, so that any later touch is guaranteed a different identity."""
    path = directory / KILL_FILE
    for name in (KILL_FILE, REMOVING):
        try:
            st = os.lstat(directory / name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            return KillFlag(f"uninspectable:{exc.errno}", KillFlagKind.UNKNOWN, str(path))
        if settle and time.time_ns() - st.st_mtime_ns < 2 * _TICK_NS:
            time.sleep(2 * _TICK_NS / 1e9)
            return inspect(directory)
        kind = kind_of(st.st_mode)
        if kind is KillFlagKind.SYMLINK and not os.path.exists(directory / name):
            kind = KillFlagKind.DANGLING_SYMLINK
        raised = _read_cause(directory / name) if kind is KillFlagKind.FILE else None
        ident = identity(st) if name == KILL_FILE else f"removing:{identity(st)}"
        return KillFlag(ident, kind, str(path), raised)
    return None


def composed(snapshot: Snapshot, directory: Path | None) -> Snapshot:
    """A fleet bot's snapshot with the kill file of its data directory in it (``directory``
    None: the store watches none). Its identity joins the database flags': a touch, or
    a new flag row, changes what the operator saw; its kind decides what NIJA may remove."""
    if directory is None:
        return snapshot
    found = inspect(directory, settle=True)
    if found is None:
        return snapshot
    rows = snapshot.flag
    if rows is not None:
        raised = rows.raised if rows.raised is not None else found.raised
        found = KillFlag(f"{rows.identity}+{found.identity}", found.kind, found.location, raised)
    return replace(snapshot, kill_flag=True, flag=found)


def _read_cause(path: Path) -> KillEvent | None:
    """Who raised the kill file, when and why, if NIJA wrote it (a bare touch says nothing)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = os.read(fd, _MAX_BODY)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        doc = json.loads(raw)
        when = datetime.fromisoformat(doc["timestamp"])
        reason, actor, source = (doc[k] for k in ("reason", "actor", "source"))
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    if not all(isinstance(v, str) for v in (reason, actor, source)) or when.tzinfo is None:
        return None
    # Anyone may write this file: its text is stored escaped (a kill is never refused for it).
    return KillEvent(
        KillAction.ACTIVATE,
        printable(reason, multi_line=True),
        when.astimezone(UTC),
        printable(source),
        printable(actor),
    )


def body(reason: str, who: Who, now: datetime) -> bytes:
    return kill_raise.body(reason, who.actor, who.source, now.isoformat())


def raise_file(directory: Path, reason: str, who: Who, now: datetime) -> None:
    """Create the kill file with its cause. An existing entry by that name (any kind) is
    already a kill: its content, the first cause, stays; it is touched, so that a
    deactivation decided before this raise sees a new identity and refuses. Never follows a link."""
    path = directory / KILL_FILE
    try:
        kill_raise.raise_new(str(path), body(reason, who, now))
    except kill_raise.CauseNotWritten as lost:
        raise details_not_written(path, lost.error) from lost.error
    except OSError as exc:
        if exists(directory):
            return  # EEXIST-like answers on some file systems: the kill is there already
        problem = not_writable(path, exc)
        raise KillFileNotWritten(
            problem.message.replace("; that file is unchanged", ""), problem.fix, in_force=False
        ) from exc


def details_not_written(path: Path, exc: OSError) -> KillFileNotWritten:
    """The entry exists, so the kill is in force; only its details are missing."""
    problem = not_writable(path, exc)
    return KillFileNotWritten(
        f"The kill file {path} exists, so the kill IS IN FORCE, but its details could not be written: "
        f"{problem.message.split(': ', 1)[-1].replace('; that file is unchanged', '')}",
        problem.fix,
        in_force=True,
    )


def put_back(grabbed: Path, kill_path: Path) -> None:
    """Return a grabbed kill file; if yet another appeared meanwhile, the kill stands anyway."""
    try:
        os.link(grabbed, kill_path, follow_symlinks=False)
    except FileExistsError:
        pass
    except OSError:
        if not os.path.lexists(kill_path):
            os.rename(grabbed, kill_path)
            return
    with contextlib.suppress(OSError):
        os.unlink(grabbed)
