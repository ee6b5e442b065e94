"""Notices kills and state changes within milliseconds.

The store's change feed (inotify for the JSON files, LISTEN/NOTIFY for PostgreSQL)
wakes the watcher when the records or the kill file change; a timeout every ``tick_s``
doubles as a poll and as the clock for heartbeats and reports. The feed itself falls
back to polling when it cannot watch, so the watcher never goes blind."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from nija.domain.permission import Permission
from nija.store.changes import ChangeFeed
from nija.store.ports import PermissionView

log = logging.getLogger(__name__)


class StateWatcher:
    def __init__(
        self,
        changes: Callable[[], ChangeFeed],
        view: PermissionView,
        on_permission: Callable[[Permission], None],
        on_tick: Callable[[], None],
        *,
        tick_s: float = 0.25,
    ) -> None:
        self._changes = changes
        self._view = view
        self._on_permission = on_permission
        self._on_tick = on_tick
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
            feed = self._changes()
        except Exception as exc:  # noqa: BLE001 - poll rather than go blind
            self.errors.append(f"the change feed could not start ({exc}); checking every {self._tick_s:g} s instead")
            log.warning(self.errors[-1])
            while not self._stop.wait(self._tick_s):
                self._check()
            return
        try:
            problem = getattr(feed, "problem", "")
            if problem:
                self.errors.append(problem)
            while not self._stop.is_set():
                feed.wait(self._tick_s)
                self._check()
        finally:
            feed.close()

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
