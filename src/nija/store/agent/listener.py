"""The host agent's Unix socket: one agent per path, only its own user (and root) served."""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from nija.domain.errors import UsageProblem
from nija.store.agent import wire

log = logging.getLogger(__name__)


def bind(path: Path) -> socket.socket:
    """Listen on ``path``; a socket nobody answers on (a dead agent's) is replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if answers(path):
            raise UsageProblem(
                f"Another host agent already listens on {path}",
                "Run one agent per host (systemctl status nija-agent), or pass another --socket",
            )
        if not path.is_socket():
            raise UsageProblem(f"{path} exists and is not a socket", "Remove it or pass another --socket")
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)  # the agent's user only (root may always connect)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    sock.listen(256)
    sock.setblocking(False)
    return sock


def accept(listening: socket.socket) -> Iterator[socket.socket]:
    """Every waiting bot's connection (non-blocking); another user's is closed unread."""
    while True:
        try:
            sock, _ = listening.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                log.warning("cannot accept a bot: %s", exc)
            return
        if not wire.trusted(wire.peer_uid(sock)):
            sock.close()  # another user may neither read the views nor write beats
            continue
        sock.setblocking(False)
        yield sock


def answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
