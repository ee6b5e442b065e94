"""Fakes for tests: a controllable clock and a heartbeat-writing stand-in for a running
bot. (Stores have a real in-memory backend.)"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission
from nija.domain.records import Heartbeat
from nija.store.ports import Store


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 2, 17, 22, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class HeartbeatBot:
    """Stands in for a running bot on a store, for tests of the live flow that need no
    real bot process: it draws a run id, reads through the store's own permission view
    with a real ``LiveVerifier`` (as ``nija run`` does) and beats through the store API.
    Call ``step()`` where a bot's watcher would have ticked (after a request, to
    acknowledge it; after a confirm, to verify it)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        dry_run_s: float = 24 * 3600.0,
        data_dir: Path | None = None,
    ) -> None:
        """``data_dir``: where it publishes, as a bot with exchange credentials does, a
        reconciliation that finds the account matching (default: a JSON store's directory)."""
        self.store = store
        self.clock = clock
        self.data_dir = data_dir if data_dir is not None else getattr(store, "data_dir", None)
        self.verifier = LiveVerifier(secrets.token_urlsafe(24))
        self.view = store.permission_view(self.verifier)
        self.dry_run_s = dry_run_s
        self.started = clock()
        self.step()

    @property
    def run_id(self) -> str:
        return self.verifier.run_id

    def step(self) -> Permission:
        permission = self.view.check()
        if self.data_dir is not None:
            self._reconciled()
        self.store.beat(
            Heartbeat(
                os.getpid(),
                socket.gethostname(),
                self.clock(),
                self.started,
                run_id=self.verifier.run_id,
                dry_run_s=self.dry_run_s,
                seen_nonce=self.verifier.seen_nonce,
                live_nonce=self.verifier.live_nonce,
                live_refused=self.verifier.refused,
            )
        )
        return permission

    def _reconciled(self) -> None:
        from nija.exchange_checks import ExchangeChecks, Reconciliation, write_checks

        now = self.clock()
        checks = ExchangeChecks(
            venue="kraken",
            currency="USDT",
            written_at=now,
            pid=os.getpid(),
            reconciliation=Reconciliation(checked_at=now, status="matching"),
        )
        assert self.data_dir is not None
        write_checks(self.data_dir, checks)

    def stop(self) -> None:
        self.store.beat(Heartbeat(os.getpid(), socket.gethostname(), self.clock(), self.started, stopped=True))
