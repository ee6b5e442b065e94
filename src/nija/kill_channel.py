"""A kill that needs no disk: a message straight to every running bot of a data directory.

When the kill file cannot be raised (read-only or full file system, permissions), the
kill must still reach the bots. Each ``nija run`` listens on an abstract Unix socket (no
file, so it works on a read-only disk) named after the data directory's device and inode
and its pid. ``tell_bots`` finds them in /proc/net/unix, sends the kill and waits for
each bot's acknowledgment, sent once its orders are cancelled. Only the bot's own user
(or root) is heard, checked with the peer's kernel credentials (SO_PEERCRED)."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nija.domain.transitions import Who

PREFIX = "nija-kill"
_MAX_MESSAGE = 8192
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KillMessage:
    reason: str
    actor: str
    source: str
    sent_at: str


def _channel(data_dir: Path) -> str | None:
    """The name prefix shared by every bot of ``data_dir`` (however the path is spelled)."""
    try:
        st = os.stat(data_dir)
    except OSError:
        return None
    return f"{PREFIX}:{st.st_dev}:{st.st_ino}:"


def listening(data_dir: Path) -> tuple[str, ...]:
    """The abstract socket names of the bots listening for ``data_dir``."""
    prefix = _channel(data_dir)
    if prefix is None:
        return ()
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return ()
    names: set[str] = set()
    for line in lines:
        fields = line.split()
        path = fields[-1] if len(fields) >= 8 else ""
        if path.startswith("@" + prefix) and path.rsplit(":", 1)[-1].isdigit():
            names.add(path[1:])
    return tuple(sorted(names))


# A bot answers once its open orders are cancelled, or after 3 s without that: a loaded
# machine must not turn a kill that reached the bot into "not in force".
REPLY_TIMEOUT_S = 15.0


def tell_bots(
    data_dir: Path, reason: str, who: Who, now: datetime, *, timeout_s: float = REPLY_TIMEOUT_S
) -> tuple[int, ...]:
    """Send the kill to every bot of ``data_dir`` at once (a bot slow to answer delays no
    other's stop); the pids that acknowledged it, in the order of their names.

    A bot the parallel send could not reach for want of a thread or a file descriptor (a
    process at its limits, when kills matter most) is told afterwards, one at a time."""
    message = (
        json.dumps({"reason": reason, "actor": who.actor, "source": who.source, "sent_at": now.isoformat()}).encode()
        + b"\n"
    )
    names = listening(data_dir)
    replies: dict[str, int] = {}
    later: list[str] = []

    def tell(name: str) -> None:
        try:
            pid = _tell(name, message, timeout_s)
        except _Starved:
            later.append(name)
            return
        if pid is not None:
            replies[name] = pid

    senders: list[threading.Thread] = []
    for name in names:
        sender = threading.Thread(target=tell, args=(name,), name=f"nija-tell {name}", daemon=True)
        try:
            sender.start()
        except RuntimeError:  # no thread left (a cgroup's task limit): told below, in this one
            later.append(name)
            continue
        senders.append(sender)
    for sender in senders:
        sender.join()
    for name in sorted(later):
        with contextlib.suppress(_Starved):
            pid = _tell(name, message, timeout_s)
            if pid is not None:
                replies[name] = pid
    return tuple(replies[name] for name in names if name in replies)


class _Starved(Exception):
    """No file descriptor for the connection (EMFILE, ENFILE, ENOBUFS)."""


def _tell(name: str, message: bytes, timeout_s: float) -> int | None:
    """The pid of the bot listening on ``name`` once it acknowledged the kill, else None.
    ``timeout_s`` bounds the whole exchange, not each read (a listener that dribbles bytes
    holds nobody longer)."""
    deadline = time.monotonic() + timeout_s
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
            raise _Starved from exc
        log.warning("kill message to %s failed: %s", name, exc)
        return None
    try:
        with conn:
            conn.settimeout(timeout_s)
            conn.connect("\0" + name)
            conn.sendall(message)
            reply = json.loads(_read_line(conn, deadline))
    except (OSError, ValueError) as exc:
        log.warning("kill message to %s failed: %s", name, exc)
        return None
    if isinstance(reply, dict) and reply.get("stopped") is True and isinstance(reply.get("pid"), int):
        return int(reply["pid"])
    return None


def _read_line(conn: socket.socket, deadline: float | None = None) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < _MAX_MESSAGE:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer within the deadline")
            conn.settimeout(left)
        chunk = conn.recv(_MAX_MESSAGE)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


class KillListener:
    """The bot's side: hears kill messages and answers once ``on_kill`` has acted."""

    def __init__(self, data_dir: Path, on_kill: Callable[[KillMessage], dict[str, Any]]) -> None:
        self._on_kill = on_kill
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        prefix = _channel(data_dir)
        self.name = None if prefix is None else f"{prefix}{os.getpid()}"
        self._thread = threading.Thread(target=self._serve, name="nija-kill-listener", daemon=True)

    def start(self) -> None:
        if self.name is None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind("\0" + self.name)
        except OSError as exc:
            sock.close()
            log.warning("cannot listen for direct kills: %s", exc)
            return
        sock.listen(8)
        sock.settimeout(0.25)
        self._sock = sock
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._wake()
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()

    def _wake(self) -> None:
        """A connection of its own ends the accept at once (else: at its next timeout, a
        quarter of a second for each listener a process closes at its exit)."""
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as waker:
            waker.settimeout(1.0)
            waker.connect("\0" + str(self.name))

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                if self._stop.is_set():  # stopping: a kill that came just now is still answered
                    with contextlib.suppress(Exception):  # its own wake-up sends nothing
                        self._answer(conn)
                    return
                try:
                    self._answer(conn)
                except Exception as exc:  # noqa: BLE001 - one bad message must not end the listener
                    log.warning("direct kill message failed: %s", exc)

    def _answer(self, conn: socket.socket) -> None:
        _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        if uid not in (0, os.getuid()):
            return  # another user may not stop this bot (nor learn that it runs)
        conn.settimeout(5)
        doc = json.loads(_read_line(conn))
        if not isinstance(doc, dict):
            return
        message = KillMessage(*(str(doc.get(k, "unknown"))[:1000] for k in ("reason", "actor", "source", "sent_at")))
        reply = self._on_kill(message)
        conn.sendall(json.dumps(reply).encode() + b"\n")
