"""``AgentStore``: the fleet store of a bot served by its host's agent (``[store] agent``).

The permission view and the change feed come from the agent's socket, and the steady
writes (heartbeats, and a live bot's account reports) are handed to the agent, which
writes them on its connection, batched. Everything else (transitions, kill flags, the
audit trail, the account declared at start) is the PostgreSQL store's own code on a
connection of the bot's own, opened on use and closed once it has been idle for
``IDLE_S``: at start, on a kill, so between writes the bot holds no database connection.
A kill the bot raises never depends on the agent being alive (and the bot enforces it
itself meanwhile)."""

from __future__ import annotations

import logging
import random
import time
from datetime import date, datetime
from pathlib import Path

from nija.domain.account_risk import AccountFigures
from nija.domain.errors import StorageUnavailable
from nija.domain.live_auth import LiveVerifier
from nija.domain.records import Heartbeat
from nija.store.agent import wire
from nija.store.agent.client import AgentPermissionView, send_beat, send_report
from nija.store.changes import SignalFeed
from nija.store.postgres.connect import Conn, server_full
from nija.store.postgres.store import PostgresStore
from nija.store.postgres.view import CachedPermission

IDLE_S = 1.0
# A fleet starting all at once may find the server's slots taken for a moment (each bot's
# start-up transaction opens a connection of its own): wait for one rather than refuse the run.
CAPACITY_WAIT_S = 30.0
log = logging.getLogger("nija.store.agent")


class AgentStore(PostgresStore):
    def __init__(
        self,
        url: str,
        *,
        bot: str,
        socket_path: Path,
        stale_after_s: float | None = None,
        capacity_wait_s: float = CAPACITY_WAIT_S,
        kill_dir: Path | None = None,
    ) -> None:
        self._agent_view: AgentPermissionView | None = None
        super().__init__(url, bot=bot, stale_after_s=stale_after_s, kill_dir=kill_dir)
        self.capacity_wait_s = capacity_wait_s
        if self.is_group:
            raise ValueError("the host agent serves bots, not the fleet or an account")
        self.socket_path = socket_path

    @property
    def location(self) -> str:
        return f"{super().location} through the host agent {self.socket_path}"

    def permission_view(self, verifier: LiveVerifier | None = None) -> AgentPermissionView:  # type: ignore[override]
        """As PostgresStore's: one shared view, or the caller's own with its verifier."""
        if verifier is not None:
            return self._new_view(verifier)
        with self._view_lock:
            if self._agent_view is None:
                self._agent_view = self._new_view(None)
            return self._agent_view

    def _new_view(self, verifier: LiveVerifier | None) -> AgentPermissionView:
        view = AgentPermissionView(
            self.socket_path,
            self.scope,
            stale_after_s=self.stale_after_s,
            verifier=verifier,
            on_update=self.release_idle,
        )
        view.kill_dir = self.kill_dir  # the bot's own kill file, never the agent's business
        return view

    def _views(self) -> list[CachedPermission]:
        return [] if self._agent_view is None else [self._agent_view]

    def changes(self) -> SignalFeed:  # type: ignore[override]
        """Wakes whenever the agent pushes a different row for this bot, a kill, or the
        connection to the agent comes or goes (then readers re-read and see why)."""
        return SignalFeed(self.permission_view().signal)

    def beat(self, heartbeat: Heartbeat) -> None:
        send_beat(self.socket_path, self.scope, heartbeat)

    def report_account(
        self, account: str, day: date, figures: dict[str, float | None], now: datetime
    ) -> AccountFigures:
        """As PostgresStore's (declare, store, sum: each report's own sum), through the agent;
        never over a connection of the bot's own (so a host's live bots hold none)."""
        return send_report(self.socket_path, wire.Report(self.scope, account, day, dict(figures), now))

    def _connection(self) -> Conn:
        """The bot's own connection; while the server has no free slot (a whole fleet
        starting at once), retried with jitter for up to ``capacity_wait_s``, then refused
        as before (exit 4 at start)."""
        deadline = time.monotonic() + self.capacity_wait_s
        wait = 0.05
        while True:
            try:
                return super()._connection()
            except StorageUnavailable as exc:
                if not server_full(exc):
                    raise
                if time.monotonic() + wait > deadline:
                    raise StorageUnavailable(
                        f"The fleet database had no free connection for {self.capacity_wait_s:g} s ({exc.message})",
                        "Raise max_connections on the server, or start fewer bots at once: each bot needs a "
                        "connection of its own for a moment at start and on a kill",
                    ) from exc
                log.warning("fleet database full (%s): waiting %.2f s for a connection slot", exc.message, wait)
            time.sleep(wait * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not a secret
            wait = min(wait * 2, 1.0)

    def release_idle(self) -> None:
        """Close the bot's own connections once unused for IDLE_S (called on every update
        from the agent); never while one is in use."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._conn is not None and time.monotonic() - self._used > IDLE_S:
                self._conn.close()
                self._conn = None
        finally:
            self._lock.release()
        if self._flag_conn is not None and self._flag_lock.acquire(blocking=False):
            try:
                if self._flag_conn is not None:
                    self._flag_conn.close()
                    self._flag_conn = None
            finally:
                self._flag_lock.release()

    def close(self) -> None:
        if self._agent_view is not None:
            self._agent_view.close()
            self._agent_view = None
        super().close()
