"""SIGTERM and SIGINT ask a long-running command (``nija run``, the bridge, the host agent)
to stop: the one way they hear them."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Relay:
    """One pipe and one thread per process, however many commands run in it (tests run
    them in-process): the handler writes a byte, the thread sets the current command's event."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        threading.Thread(target=self._run, name="nija-stop-signal", daemon=True).start()

    def _run(self) -> None:
        while os.read(self._read, 1):
            self.stop.set()

    def handler(self, signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(BlockingIOError):  # the pipe is full: the relay is already woken
            os.write(self._write, b"\0")


_relay: _Relay | None = None


def stop_on_signals(stop: threading.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT, from a relay thread.

    A Python signal handler runs in the main thread between two bytecodes, possibly while
    that thread is inside ``stop.wait()`` holding the event's lock: setting the event in
    the handler then waits for the lock forever and the process never exits (CPython
    issue 126434; a bridge once ignored SIGTERM so in CI). The handler only writes a byte
    to a pipe, which takes no lock; the relay thread sets the event."""
    global _relay
    if _relay is None:
        _relay = _Relay()
    _relay.stop = stop
    for signum in STOP_SIGNALS:
        signal.signal(signum, _relay.handler)
