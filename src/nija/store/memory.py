"""An in-memory store for tests and for exercising the service without a disk."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from nija.domain.change import Change
from nija.domain.permission import Permission, decide
from nija.domain.records import Heartbeat, Snapshot
from nija.domain.transitions import Who


class MemoryStore:
    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._snapshot = snapshot or Snapshot()
        self._lock = threading.RLock()
        self.commits = 0

    @property
    def location(self) -> str:
        return "memory"

    def load(self) -> Snapshot:
        return self._snapshot

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        with self._lock:
            yield _MemoryTransaction(self)

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, kill_flag=True)

    def permission_view(self) -> _MemoryPermissionView:
        return _MemoryPermissionView(self)

    def beat(self, heartbeat: Heartbeat) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, heartbeat=heartbeat)

    def _apply(self, change: Change) -> None:
        snap = self._snapshot
        self._snapshot = replace(
            snap,
            trading=change.trading if change.trading is not None else snap.trading,
            kill=change.kill if change.kill is not None else snap.kill,
            kill_flag=False if change.clear_kill_flag else snap.kill_flag,
        )
        self.commits += 1


class _MemoryTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.snapshot = store.load()

    def commit(self, change: Change) -> None:
        self._store._apply(change)


class _MemoryPermissionView:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def check(self) -> Permission:
        return decide(self._store.load())
