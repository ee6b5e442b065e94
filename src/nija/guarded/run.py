"""The guarded bot's run: the one seam between the guard and NIJA's core.

Everything the guard asks NIJA goes through ``GuardRun``: the permission check before
an order, the heartbeat that makes the guarded bot visible to ``status``, the web and
the TUI, and the restart rule at construction. When the runtime verifies LIVE_ACTIVE
against the bot's own run (DESIGN.md invariant 7), this is the one class to point at
that verifier."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nija.domain.permission import Permission
from nija.domain.records import Heartbeat
from nija.domain.transitions import Who
from nija.service import Outcome, SafetyService
from nija.store.ports import PermissionView


@dataclass
class GuardRun:
    service: SafetyService
    who: Who
    run_id: str = field(default_factory=lambda: secrets.token_hex(8))
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self._view: PermissionView = self.service.store.permission_view()

    def start(self) -> Outcome:
        """The restart rule (a persisted live state becomes OFF), then adopt a bare kill file."""
        outcome = self.service.on_bot_start(self.who)
        self.service.adopt_kill_flag(self.who)
        return outcome

    def check(self) -> Permission:
        """The gate's question: may an order of this run be placed now, and in which mode?"""
        return self._view.check()

    def beat(self, *, stopped: bool = False) -> None:
        self.service.store.beat(
            Heartbeat(os.getpid(), socket.gethostname(), datetime.now(UTC), self.started_at, stopped=stopped)
        )
