"""One cross-process lock per data directory (flock on a lock file), with a timeout.

flock locks belong to the open file description, so threads of one process exclude
each other too, and the kernel drops the lock when a holder dies: no stale lock."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nija.domain.errors import LockTimeout, StorageNotWritable

DEFAULT_TIMEOUT_S = 10.0


@contextmanager
def exclusive(path: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[None]:
    fd = _open(path)
    try:
        deadline = time.monotonic() + timeout_s
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"Timed out after {timeout_s:g}s waiting for the lock {path}: another NIJA process holds it",
                        "Check for a hung process (fuser -v " + str(path) + "), then try again",
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as create_error:
        # A read-only directory with an existing lock file can still be locked for reading
        # callers, but a writer will fail later with the precise cause.
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            raise StorageNotWritable(
                f"Cannot create the lock file {path}: {create_error.strerror}",
                f"Make {path.parent} writable by the user running NIJA (and check the disk)",
            ) from create_error
