"""SIGTERM and SIGINT ask a long-running command (``nija run``, the bridge, the host agent)
to stop: the one way they hear them."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_on_signals(stop: threading.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT, from a relay thread.

    A Python signal handler runs in the main thread between two bytecodes, possibly while
    that thread is inside ``stop.wait()`` holding the event's lock: setting the event in
    the handler then waits for the lock forever and the process never exits (CPython
    issue 126434; a bridge once ignored SIGTERM so in CI). The handler only writes a byte
    to a pipe, which takes no lock; the relay thread sets the event."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)

    def relay() -> None:
        os.read(wake_read, 1)
        stop.set()

    threading.Thread(target=relay, name="nija-stop-signal", daemon=True).start()

    def handler(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(BlockingIOError):  # the pipe is full: the relay is already woken
            os.write(wake_write, b"\0")

    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)
