"""Notices kills and state changes within milliseconds.

inotify (through watchfiles) wakes the watcher when anything in the data directory
changes (the kill file, a state file); a timeout every ``tick_s`` doubles as a poll
fallback and as the clock for heartbeats and reports. If inotify cannot be used, a
plain poll takes over."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import watch

from nija.domain.permission import Permission
from nija.store.ports import PermissionView

log = logging.getLogger(__name__)


class StateWatcher:
    def __init__(
        self,
        data_dir: Path,
        view: PermissionView,
        on_permission: Callable[[Permission], None],
        on_tick: Callable[[], None],
        *,
        step_ms: int = 2,
        tick_s: float = 0.25,
    ) -> None:
        self._dir = data_dir
        self._view = view
        self._on_permission = on_permission
        self._on_tick = on_tick
        self._step_ms = step_ms
        self._tick_s = tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nija-state-watcher", daemon=True)
        self.errors: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        self._check()
        try:
            for _ in watch(
                self._dir,
                # Every change wakes a check, not only the state files': a filter would let a
                # steady stream of other writes here (the paper ledger, a reader's SQLite
                # journal) starve the timeout, and a kill whose event came before the watch
                # was set up would then go unseen. A check is a few stat calls.
                watch_filter=None,
                debounce=self._step_ms * 5,
                step=self._step_ms,
                stop_event=self._stop,
                rust_timeout=int(self._tick_s * 1000),
                yield_on_timeout=True,
                raise_interrupt=False,
                recursive=False,
            ):
                self._check()
        except Exception as exc:  # noqa: BLE001 - fall back to polling rather than go blind
            self.errors.append(f"inotify watch failed ({exc}); polling every {self._step_ms} ms instead")
            log.warning(self.errors[-1])
            while not self._stop.wait(self._step_ms / 1000):
                self._check()

    def _check(self) -> None:
        try:
            self._on_permission(self._view.check())
        except Exception as exc:
            self.errors.append(f"reaction failed: {type(exc).__name__}: {exc}")
            log.exception("reaction failed")
        try:
            self._on_tick()
        except Exception as exc:  # noqa: BLE001 - a report that fails must not stop kill reactions
            self.errors.append(f"tick failed: {type(exc).__name__}: {exc}")
