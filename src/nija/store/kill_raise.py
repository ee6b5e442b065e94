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


class CauseNotWritten(Exception):
    """The kill file exists, so the kill is in force; only its cause could not be written."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def raise_new(path: str, data: bytes) -> bool:
    """Raise the kill file at ``path`` carrying ``data``; False if an entry by that name was
    there already (a kill: touched, its first cause kept). Raises OSError when nothing could be
    created, CauseNotWritten when the file exists without its cause (a full disk).

    The cause is written into a staged file that is then hard-linked into place: the link is
    exclusive and atomic, so a watcher never reads a NIJA-raised kill file empty (it would
    record a bare kill with no cause). Where staging fails (a full disk, no hard links), the
    file is created empty first and filled after: the kill itself never waits for its cause."""
    directory = os.path.dirname(path) or "."
    staged = _stage(directory, data)
    if staged is not None:
        name, fd = staged
        try:
            os.link(name, path, follow_symlinks=False)
        except FileExistsError:
            os.close(fd)
            _touch(path)
            return False
        except OSError:
            os.close(fd)  # no hard links here: create in place below
        else:
            try:
                write_cause(fd, b"", directory)  # the bytes are there: make them and the name durable
            except OSError as exc:
                raise CauseNotWritten(exc) from exc
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)
    fd_new = open_new(path)
    if fd_new is None:
        return False
    try:
        write_cause(fd_new, data, directory)
    except OSError as exc:
        raise CauseNotWritten(exc) from exc
    return True


def _stage(directory: str, data: bytes) -> tuple[str, int] | None:
    """A new file beside the kill file holding ``data`` (not yet durable), open; None if it
    cannot be made whole."""
    name = os.path.join(directory, f".nija_kill_raise.{os.getpid()}.{os.urandom(4).hex()}")
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except OSError:
        return None
    try:
        if os.write(fd, data) == len(data):
            return name, fd
    except OSError:
        pass
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _touch(path: str) -> None:
    with contextlib.suppress(OSError):  # a read-only disk: the kill stands all the same
        os.utime(path, follow_symlinks=False)


def open_new(path: str) -> int | None:
    """A descriptor on a new, empty kill file at ``path``; None if an entry by that name (any
    kind) was already there: that is a kill already, and it is touched so that a deactivation
    decided before this raise sees a new identity. Never follows a link. Raises OSError when
    nothing could be created."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        _touch(path)
        return None


def write_cause(fd: int, data: bytes, directory: str) -> None:
    """Write the cause into a new kill file, durably, and close it. Raises OSError: the kill
    file exists then (the kill is in force), only its details are missing."""
    try:
        if data and os.write(fd, data) != len(data):
            raise OSError(28, os.strerror(28))  # ENOSPC: a short write means a full disk
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
