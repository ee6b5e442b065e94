"""An in-memory store for tests and for exercising the service without a disk."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from nija.domain.change import Change
from nija.domain.errors import KillRaisedDuringDeactivation
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission, decide
from nija.domain.records import Heartbeat, KillAction, KillEvent, KillFlag, KillFlagKind, Snapshot
from nija.domain.transitions import Who
from nija.store.changes import Signal, SignalFeed


class MemoryStore:
    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._snapshot = snapshot or Snapshot()
        self._lock = threading.RLock()
        # Raises are counted apart from the records, under a lock of their own, so that
        # raising never waits for a transaction (the port's promise).
        self._flag_lock = threading.Lock()
        self._flags = 1 if self._snapshot.kill_flag else 0
        self._raises = self._flags  # every raise counts, also one onto a raised flag: its identity
        self._cause: KillEvent | None = None  # the first raise's, like the kill file's content
        self.commits = 0
        self._changed = Signal()

    @property
    def location(self) -> str:
        return "memory"

    def load(self) -> Snapshot:
        flag = KillFlag(f"raised:{self._raises}", KillFlagKind.ROW, "memory", self._cause) if self._flags else None
        return replace(self._snapshot, kill_flag=self._flags > 0, flag=flag)

    @contextmanager
    def transaction(self, *, timeout_s: float | None = None) -> Iterator[_MemoryTransaction]:
        with self._lock:
            yield _MemoryTransaction(self)

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        with self._flag_lock:
            if not self._flags:
                self._cause = KillEvent(KillAction.ACTIVATE, reason, now, who.source, who.actor)
            self._flags = 1
            self._raises += 1
        self._changed.notify()

    def changes(self) -> SignalFeed:
        return SignalFeed(self._changed)

    def permission_view(self, verifier: LiveVerifier | None = None) -> _MemoryPermissionView:
        return _MemoryPermissionView(self, verifier)

    def beat(self, heartbeat: Heartbeat) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, heartbeat=heartbeat)
        self._changed.notify()

    def _apply(self, change: Change, flags_seen: int) -> None:
        if change.clear_kill_flag:
            with self._flag_lock:
                if self._raises != flags_seen:
                    raise KillRaisedDuringDeactivation()
                self._flags = 0
                self._cause = None
        snap = self._snapshot
        self._snapshot = replace(
            snap,
            trading=change.trading if change.trading is not None else snap.trading,
            kill=change.kill if change.kill is not None else snap.kill,
        )
        self.commits += 1
        self._changed.notify()


class _MemoryTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._flags_seen = store._raises
        self.snapshot = store.load()

    def commit(self, change: Change) -> None:
        self._store._apply(change, self._flags_seen)


class _MemoryPermissionView:
    def __init__(self, store: MemoryStore, verifier: LiveVerifier | None) -> None:
        self._store = store
        self._verifier = verifier

    def check(self) -> Permission:
        if self._verifier is None:
            return decide(self._store.load(), now=datetime.now(UTC))
        with self._verifier.reading:
            return decide(self._store.load(), self._verifier)
