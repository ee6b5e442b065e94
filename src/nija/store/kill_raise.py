"""Raising the kill file with nothing but the standard library (no NIJA import, no json,
no pathlib): the emergency path raises it before it imports anything else
(``nija.emergency``), and ``kill_file.raise_file`` raises it through here too, so the
file's bytes and the way it is created are written once."""

from __future__ import annotations

import contextlib
import os

KILL_FILE = "EMERGENCY_STOP"


def body(reason: str, actor: str, source: str, timestamp: str) -> bytes:
    """The cause a NIJA-raised kill file carries: one JSON object (``kill_file._read_cause``)."""
    fields = (("reason", reason), ("actor", actor), ("source", source), ("timestamp", timestamp))
    items = "".join(f"{_json_string(name)}: {_json_string(value)}, " for name, value in fields)
    return ("{" + items + f'"pid": {os.getpid()}' + "}\n").encode("ascii")


def _json_string(text: str) -> str:
    """A JSON string in ASCII (as ``json.dumps`` writes it), without importing json (and re)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}")
        else:
            out.append(f"\\u{code:04x}")
    return '"' + "".join(out) + '"'


def open_new(path: str) -> int | None:
    """A descriptor on a new, empty kill file at ``path``; None if an entry by that name (any
    kind) was already there: that is a kill already, and it is touched so that a deactivation
    decided before this raise sees a new identity. Never follows a link. Raises OSError when
    nothing could be created."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        with contextlib.suppress(OSError):  # a read-only disk: the kill stands all the same
            os.utime(path, follow_symlinks=False)
        return None


def write_cause(fd: int, data: bytes, directory: str) -> None:
    """Write the cause into a new kill file, durably, and close it. Raises OSError: the kill
    file exists then (the kill is in force), only its details are missing."""
    try:
        if os.write(fd, data) != len(data):
            raise OSError(28, os.strerror(28))  # ENOSPC: a short write means a full disk
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
