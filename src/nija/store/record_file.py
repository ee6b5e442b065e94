"""Reading one record file without ever blocking on what stands in its place.

A FIFO named like a state file blocks a plain ``open`` until a writer comes (forever),
a character device may stream without end, a directory cannot be read. Only a regular
file is a record: anything else, and anything too large to be one, is unreadable (the
store then fails closed) and is said to be so at once. The entry is checked twice: by
``stat`` before opening (so no device is opened on purpose) and by ``fstat`` on the open
descriptor (so an entry swapped in between is caught); ``O_NONBLOCK`` keeps even that
swapped-in FIFO from blocking the ``open``."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

# The history is capped at 1,000 entries (about 1 MB); far larger is not a record.
MAX_RECORD_BYTES = 16 * 1024 * 1024

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class RecordUnreadable(Exception):
    """Why the entry at a record's path cannot be a record (a plain sentence)."""


def read_record(path: Path, *, limit: int = MAX_RECORD_BYTES) -> bytes | None:
    """The bytes of the regular file at ``path``; None if nothing is there at all."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RecordUnreadable(f"cannot inspect it: {exc.strerror}") from None
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise RecordUnreadable(f"it is a symbolic link to {_link_target(path)}, which does not exist") from None
    except OSError as exc:
        raise RecordUnreadable(f"cannot inspect it: {exc.strerror}") from None
    _require_regular(before.st_mode)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None  # removed since the stat: as if we had looked a moment later
    except OSError as exc:
        raise RecordUnreadable(f"cannot read: {exc.strerror}") from None
    try:
        _require_regular(os.fstat(fd).st_mode)
        return _read_at_most(fd, limit)
    except OSError as exc:
        raise RecordUnreadable(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def read_text(path: Path, *, limit: int = MAX_RECORD_BYTES) -> str:
    """A small UTF-8 text file (a configuration), with the failures ``Path.read_text``
    has: FileNotFoundError if absent, OSError naming why it cannot be a file (a FIFO
    there would block a plain read forever), UnicodeDecodeError for other encodings."""
    try:
        raw = read_record(path, limit=limit)
    except RecordUnreadable as exc:
        raise OSError(str(exc)) from None  # callers name the path
    if raw is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    return raw.decode("utf-8")


def open_regular(path: Path, buffering: int = -1) -> BinaryIO:
    """A binary stream on the regular file at ``path``, for logs too long to read at once.

    Raises FileNotFoundError if nothing is there, RecordUnreadable for anything but a
    regular file (the same checks as ``read_record``: nothing blocks)."""
    try:
        _require_regular(os.stat(path).st_mode)
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise RecordUnreadable(f"cannot read: {exc.strerror}") from None
    try:
        _require_regular(os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=buffering)


def is_regular(path: Path) -> bool:
    """Whether ``path`` is a regular file (following symbolic links), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _require_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise RecordUnreadable(f"it is {kind}, not a regular file")


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise RecordUnreadable(f"it is larger than {limit // (1024 * 1024)} MiB, far more than a record")


def _link_target(path: Path) -> str:
    try:
        return repr(os.readlink(path))
    except OSError:
        return "a missing file"
