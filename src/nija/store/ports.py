"""The store port: what the service needs from any backend (files, memory, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from nija.domain.change import Change
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission
from nija.domain.records import Heartbeat, Snapshot
from nija.domain.transitions import Who
from nija.store.changes import ChangeFeed


class Transaction(Protocol):
    """An exclusive read-modify-write: nobody else changes the records meanwhile."""

    @property
    def snapshot(self) -> Snapshot: ...

    def commit(self, change: Change) -> None:
        """Write the change; a failure raises StorageProblem and changes nothing more."""


class PermissionView(Protocol):
    """The order gate's question, answered cheaply: a few stat calls when nothing changed."""

    def check(self) -> Permission: ...


def catch_up(view: PermissionView, timeout_s: float) -> bool:
    """Read your own writes through any view: a cached one (PostgreSQL, the host agent)
    waits for a reading begun after this call; the others read the records on every check.
    False: not confirmed in time (the view then ages into VIEW_STALE by itself)."""
    wait: Callable[[float], bool] | None = getattr(view, "catch_up", None)
    return True if wait is None else wait(timeout_s)


class Store(Protocol):
    @property
    def location(self) -> str:
        """Where the records live, for messages (a directory, a database)."""

    def load(self) -> Snapshot:
        """Read everything without taking the lock: writes are atomic replacements."""

    def transaction(self, *, timeout_s: float | None = None) -> AbstractContextManager[Transaction]:
        """``timeout_s``: how long to wait for other writers (None: the store's default)."""

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        """Make the kill visible to every reader at once, without waiting for the lock.
        A flag that exists already is left as it is (the kill's cause comes first)."""

    def permission_view(self, verifier: LiveVerifier | None = None) -> PermissionView:
        """``verifier``: the running bot's (runtime/engine.py); it sees every record the
        view reads and alone can allow LIVE_ACTIVE. Without one, a view judges live from
        what the running bot published. A view with a verifier is the caller's own."""

    def changes(self) -> ChangeFeed:
        """A new feed that wakes when the records may have changed (from any process)."""

    def beat(self, heartbeat: Heartbeat) -> None:
        """Record that a bot is alive."""
