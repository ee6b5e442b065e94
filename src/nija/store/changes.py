"""The change feed: "wake me when the stored safety records may have changed".

One port (:class:`ChangeFeed`), one implementation per backend: inotify for the JSON
files, LISTEN/NOTIFY for PostgreSQL (``nija.store.postgres.feed``), a condition variable
for memory. The API's event stream, the bot's watcher and the TUI wait on it, so no
front end knows a file name or a channel, and PostgreSQL changes arrive as fast as file
ones. A feed may wake without a change (readers then re-read and find nothing new); it
must never sleep through one: every backend that cannot watch falls back to polling."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

POLL_S = 0.01  # the polling fallback's period: a kill is seen within it
ARM_TICK_MS = 200  # the inotify thread wakes this often when idle (its first wake arms the feed)
ARM_TIMEOUT_S = 5.0


class ChangeFeed(Protocol):
    def wait(self, timeout_s: float) -> bool:
        """Block until something may have changed since the previous ``wait`` (True), or
        ``timeout_s`` passed (False)."""

    def close(self) -> None: ...


class Signal:
    """A counter of changes and a condition to wait for the next one: what every feed
    shares. ``wait`` is per consumer: each feed object remembers what it has seen."""

    def __init__(self) -> None:
        self._count = 0
        self._cond = threading.Condition()

    def notify(self) -> None:
        with self._cond:
            self._count += 1
            self._cond.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait_beyond(self, seen: int, timeout_s: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self._count != seen, timeout=max(0.0, timeout_s))
            return self._count


class SignalFeed:
    """A consumer's view of a :class:`Signal` (the memory store's feed, and the base of
    the others)."""

    def __init__(self, signal: Signal) -> None:
        self._signal = signal
        self._seen = signal.count

    def wait(self, timeout_s: float) -> bool:
        count = self._signal.wait_beyond(self._seen, timeout_s)
        changed = count != self._seen
        self._seen = count
        return changed

    def close(self) -> None:
        pass


class FileChangeFeed(SignalFeed):
    """Watches named entries of one directory with inotify (watchfiles), or by polling
    their (inode, mtime, size, type) when inotify cannot be used."""

    def __init__(self, directory: Path, names: Iterable[str]) -> None:
        super().__init__(Signal())
        self._dir = directory
        self._names = frozenset(names)
        self._stop = threading.Event()
        self.problem = ""  # why it polls, if it does
        self._armed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nija-change-feed", daemon=True)
        self._thread.start()
        # A change made after this returns is never missed: the watch (or poll) is in place.
        self._armed.wait(ARM_TIMEOUT_S)

    def close(self) -> None:
        self._stop.set()
        self._signal.notify()  # wake a consumer blocked in wait()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from watchfiles import watch  # its Rust extension loads only for watchers

        try:
            # No watch_filter: filtered-out batches would still reset the idle timeout, so a
            # steady stream of other writes here (the paper ledger) could keep the feed from
            # ever arming. Every batch arms it; only our names wake consumers.
            for batch in watch(
                self._dir,
                debounce=10,
                step=2,
                stop_event=self._stop,
                rust_timeout=ARM_TICK_MS,
                yield_on_timeout=True,  # the first yield, even empty: inotify is watching
                raise_interrupt=False,
                recursive=False,
            ):
                self._armed.set()
                if any(Path(path).name in self._names for _, path in batch):
                    self._signal.notify()
        except Exception as exc:  # noqa: BLE001 - fall back to polling rather than go blind
            self.problem = f"inotify watch of {self._dir} failed ({exc}); polling every {POLL_S * 1000:g} ms"
            import logging  # loaded only when a watcher has a problem to log

            logging.getLogger(__name__).warning(self.problem)
            self._poll()

    def _poll(self) -> None:
        last = self._signature()
        self._armed.set()
        while not self._stop.wait(POLL_S):
            now = self._signature()
            if now != last:
                last = now
                self._signal.notify()

    def _signature(self) -> tuple[tuple[int, int, int, int] | None, ...]:
        result: list[tuple[int, int, int, int] | None] = []
        for name in sorted(self._names):
            try:
                st = os.lstat(self._dir / name)
            except OSError:
                result.append(None)
            else:
                result.append((st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode))
        return tuple(result)
