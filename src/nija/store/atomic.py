"""Durable atomic file replacement: unique temp file, fsync, rename, fsync directory."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from nija.domain.errors import StorageNotWritable

_CAUSES = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "the directory does not exist",
}


def temp_name(path: Path) -> Path:
    # 128 random bits, as uuid4 gave: the uuid module (and platform, which it loads) cost
    # every command's start-up more than the rest of this module.
    return path.with_name(f"{path.name}.{os.urandom(16).hex()}.tmp")


PRIVATE_FILE = 0o600  # records say who did what and why: for the account that runs NIJA


def write_atomic(path: Path, data: bytes, *, durable: bool = True, mode: int = PRIVATE_FILE) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new bytes, never a mix.
    The new file is created with ``mode`` (0600 unless asked otherwise; the umask can only narrow it).

    On failure the old file is untouched, the temp file is removed, and StorageNotWritable
    names the file and the cause."""
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if durable:
            fsync_directory(path.parent)
    except OSError as exc:
        _discard(tmp)
        raise not_writable(path, exc) from exc


def directory_exposure(path: Path) -> str | None:
    """A warning when other accounts may change the data directory's entries: they could then
    delete the kill file or replace a record. None when it is private enough (or absent).
    NIJA never creates a data directory (a mistyped --data-dir must fail, not start an empty
    record set that reads OFF), so an existing one keeps its mode and is only warned about."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        return (
            f"The data directory {path} is writable by other accounts (mode {stat.filemode(mode)}): they can "
            f"remove EMERGENCY_STOP or replace the records. Run: chmod 700 {path}"
        )
    return None


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def not_writable(path: Path, exc: OSError) -> StorageNotWritable:
    cause = _CAUSES.get(exc.errno or 0, exc.strerror or str(exc))
    return StorageNotWritable(
        f"Cannot write {path}: {cause}; that file is unchanged",
        f"Check permissions (ls -la {path.parent}; chmod 644 {path}; the directory needs u+w), "
        "free disk space (df -h) and that the file system is not mounted read-only",
    )


def describe_unwritable(path: Path) -> str | None:
    """Why ``path`` (or its directory, for a missing file) cannot be written, if it cannot."""
    target = path if path.exists() else path.parent
    if os.access(target, os.W_OK):
        return None
    return f"{target} ({_CAUSES[unwritable_errno(target)]})"


def check_writable(path: Path) -> None:
    """Refuse early, naming the cause, when an existing file cannot be replaced by us."""
    if path.exists() and not os.access(path, os.W_OK):
        code = unwritable_errno(path)
        raise not_writable(path, OSError(code, os.strerror(code)))


def unwritable_errno(path: Path) -> int:
    try:
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    return errno.EROFS if read_only else errno.EACCES


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
