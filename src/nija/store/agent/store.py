"""``AgentStore``: the Store port of a bot served by its host's agent (``[store] agent``).

The permission view and the change feed come from the agent's socket, and heartbeats
(the only steady writes) are written by the agent on its connection. Reads and
transactions (start, restore, kills: a few per run) go to the database on a short
connection of the bot's own, closed right after, so between writes the bot holds no
database connection. Kill flags use the bot's own connection too: a kill the bot raises
must not depend on the agent being alive (the bot enforces it itself meanwhile)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from nija.domain.live_auth import LiveVerifier
from nija.domain.records import Heartbeat, Snapshot
from nija.domain.transitions import Who
from nija.store.agent.client import AgentPermissionView, send_beat
from nija.store.changes import SignalFeed
from nija.store.postgres.store import PostgresStore, PostgresTransaction


class AgentStore:
    def __init__(self, inner: PostgresStore, socket_path: Path) -> None:
        if inner.is_fleet:
            raise ValueError("the host agent serves bots, not the fleet scope")
        self._inner = inner
        self.socket_path = socket_path
        self.url = inner.url
        self.scope = inner.scope
        self.stale_after_s = inner.stale_after_s
        self._view: AgentPermissionView | None = None
        self._view_lock = threading.Lock()
        self._depth = 0  # nested uses of the short connection (a load inside a transaction)
        self._depth_lock = threading.Lock()

    is_fleet = False

    @property
    def location(self) -> str:
        return f"{self._inner.location} through the host agent {self.socket_path}"

    # -- the agent's side ----------------------------------------------------------------
    def permission_view(self, verifier: LiveVerifier | None = None) -> AgentPermissionView:
        """As PostgresStore's: one shared view, or the caller's own with its verifier."""
        if verifier is not None:
            return AgentPermissionView(
                self.socket_path, self.scope, stale_after_s=self.stale_after_s, verifier=verifier
            )
        with self._view_lock:
            if self._view is None:
                self._view = AgentPermissionView(self.socket_path, self.scope, stale_after_s=self.stale_after_s)
            return self._view

    def changes(self) -> SignalFeed:
        """Wakes whenever the agent pushes a different row for this bot, a kill, or the
        connection to the agent comes or goes (then readers re-read and see why)."""
        return SignalFeed(self.permission_view().signal)

    def beat(self, heartbeat: Heartbeat) -> None:
        send_beat(self.socket_path, self.scope, heartbeat)

    # -- the bot's own short connection ------------------------------------------------
    @contextmanager
    def _short(self) -> Iterator[None]:
        with self._depth_lock:
            self._depth += 1
        try:
            yield
        finally:
            with self._depth_lock:
                self._depth -= 1
                last = self._depth == 0
            if last:
                self._inner.release()

    def load(self) -> Snapshot:
        with self._short():
            return self._inner.load()

    def load_scope(self, scope: str) -> Snapshot:
        with self._short():
            return self._inner.load_scope(scope)

    def scopes(self) -> tuple[str, ...]:
        with self._short():
            return self._inner.scopes()

    @contextmanager
    def transaction(self, *, timeout_s: float | None = None) -> Iterator[PostgresTransaction]:
        with self._short(), self._inner.transaction(timeout_s=timeout_s) as tx:
            yield tx

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        with self._short():
            self._inner.raise_kill_flag(reason, who, now)

    def close(self) -> None:
        if self._view is not None:
            self._view.close()
            self._view = None
        self._inner.close()
