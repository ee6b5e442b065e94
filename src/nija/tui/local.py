"""The local backend: this machine's data directory (or the configured PostgreSQL
store), through ``SafetyService``.

Service calls take a cross-process lock, so they run in a thread and never freeze the
screen. Changes are noticed through the store's change feed (inotify for the JSON
files, LISTEN/NOTIFY for PostgreSQL), the bot's report by its signature."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from nija.assembly import build_service
from nija.bot_report import freshness, read_report, report_signature, stale_note
from nija.domain import recovery
from nija.domain.clock import Clock
from nija.kill_adoption import BareKillAdopter
from nija.service import Outcome, SafetyService, system_clock
from nija.store import StoreSelection, config_dir
from nija.tui.backend import ActionResult, PlanView, tui_who
from nija.tui.frame import Frame, displayable
from nija.views import HistoryView, history_view, plan_view, status_view

NO_BOT = "No bot is running here: no runtime report (.nija_runtime.json) in the data directory"
WATCH_IDLE_MS = 250  # how often the bot's report is looked at
POLL_S = 1.0  # a frame at least this often: liveness and staleness change without writes
STALE_AFTER_S = 3.0  # a few of the bot's report periods (1 s by default)


class LocalBackend:
    def __init__(
        self, data_dir: Path | str | None, selection: StoreSelection | None = None, clock: Clock = system_clock
    ) -> None:
        # A bad nija.toml must not stop the control center: it says so and carries on.
        self.config_warnings: list[str] = []
        self.service: SafetyService = build_service(
            data_dir, selection=selection, config_warning=self.config_warnings.append, clock=clock
        )
        self._adopter = BareKillAdopter(self.service, tui_who())
        self.data_dir = config_dir(data_dir)  # the bot's runtime report lives here for every store
        self._stop = anyio.Event()

    @property
    def location(self) -> str:
        return self.service.store.location

    async def frame(self) -> Frame:
        return await asyncio.to_thread(self._frame)

    def _frame(self) -> Frame:
        report = self.service.status()
        if self._adopter.check(report):  # a bare `touch EMERGENCY_STOP` is recorded at once
            report = self.service.status()
        status = displayable(status_view(report, self.location))
        runtime = read_report(self.data_dir)
        fresh = freshness(runtime, self.service.snapshot().heartbeat, self.service.clock(), STALE_AFTER_S)
        stopped = fresh.stopped_at.isoformat(timespec="seconds") if fresh.stopped_at else None
        note = stale_note(fresh.age_s, fresh.stale, stopped)
        return Frame(status, runtime, "" if runtime else NO_BOT, tuple(self.config_warnings), note)

    async def history(self) -> HistoryView:
        transitions, kills = await asyncio.to_thread(self.service.history)
        return displayable(history_view(transitions, kills))

    async def activate_kill(self, reason: str) -> ActionResult:
        outcome = await asyncio.to_thread(self.service.activate_kill, reason, tui_who())
        # Activation is recorded even when already active (as a note), so never "nothing changed".
        done = outcome.messages[0] if outcome.messages else "Kill switch ACTIVATED: all trading is stopped"
        return ActionResult(f"{done} (now {outcome.after})", outcome.warnings)

    async def kill_seen(self) -> str | None:
        return await asyncio.to_thread(self.service.kill_seen)

    async def deactivate_kill(self, reason: str, seen: str | None = None) -> ActionResult:
        outcome = await asyncio.to_thread(
            functools.partial(self.service.deactivate_kill, reason, tui_who(), expected=seen)
        )
        return _result(outcome, "Kill switch deactivated")

    async def plan(self, action: str) -> PlanView:
        planner = self.service.plan_restore if action == "restore" else self.service.plan_reset
        shown: recovery.Plan = await asyncio.to_thread(planner)
        return PlanView.of(displayable(plan_view(shown)), token=shown)

    async def apply(self, plan: PlanView) -> ActionResult:
        assert isinstance(plan.token, recovery.Plan)  # plans come from self.plan()
        run = self.service.restore if plan.action == "restore" else self.service.reset
        outcome = await asyncio.to_thread(run, tui_who(), expected=plan.token)
        done = "Restored to simulation mode" if plan.action == "restore" else "Trading disabled"
        return _result(outcome, done)

    async def changes(self) -> AsyncIterator[None]:
        """Wake on every change of the store (its feed: inotify, LISTEN/NOTIFY) or of the
        bot's report, and at least every ``POLL_S``: liveness and staleness change
        without any write."""
        feed = self.service.store.changes()
        report_seen = report_signature(self.data_dir)
        quiet = 0.0
        try:
            yield None  # the first frame; the feed is watching from here on
            while not self._stop.is_set():
                changed = await asyncio.to_thread(feed.wait, WATCH_IDLE_MS / 1000)
                report_now = report_signature(self.data_dir)
                quiet += WATCH_IDLE_MS / 1000
                if changed or report_now != report_seen or quiet >= POLL_S:
                    report_seen, quiet = report_now, 0.0
                    yield None
        finally:
            feed.close()

    async def close(self) -> None:
        self._stop.set()


def _result(outcome: Outcome, done: str) -> ActionResult:
    details = (*outcome.warnings, *outcome.messages)
    if outcome.changed:
        return ActionResult(f"{done}: now {outcome.after}", details)
    return ActionResult(details[0] if details else f"Nothing changed: still {outcome.after}", details[1:])
