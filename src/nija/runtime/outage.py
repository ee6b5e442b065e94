"""Riding out a fleet database outage: when it started, when it ended, what it cost.

An outage is the permission view answering ``VIEW_STALE`` after it had been confirmed
once (before that the bot is still starting). During it the gate denies every order
(the view fails closed); resting orders are kept for ``cancel_after_s`` (a blip should
not wipe the book) and then cancelled as on a kill. The bot never exits for it: it
keeps checking, the view reconnects by itself, and the outage is closed the first time
the view is confirmed again. Clocks are injected: ``wall`` for the record, ``mono`` for ages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from nija.domain.permission import Permission

STALE_CODES = frozenset({"VIEW_STALE"})  # the fleet view's "not confirmed fresh" answer


@dataclass
class OutageRecord:
    start: datetime
    started_mono: float
    denials_at_start: int
    end: datetime | None = None
    orders_denied: int = 0
    orders_cancelled: int = 0
    orders_cancelled_at: datetime | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, object]:
        duration = None if self.end is None else round((self.end - self.start).total_seconds(), 3)
        return {
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "duration_s": duration,
            "orders_denied": self.orders_denied,
            "orders_cancelled": self.orders_cancelled,
            "orders_cancelled_at": None if self.orders_cancelled_at is None else self.orders_cancelled_at.isoformat(),
            "problem": self.problem,
        }


class OutageTracker:
    def __init__(self, cancel_after_s: float, *, wall: Callable[[], datetime], mono: Callable[[], float]) -> None:
        self.cancel_after_s = cancel_after_s
        self._wall = wall
        self._mono = mono
        self._confirmed_once = False
        self.records: list[OutageRecord] = []

    @property
    def current(self) -> OutageRecord | None:
        last = self.records[-1] if self.records else None
        return last if last is not None and last.end is None else None

    def observe(self, permission: Permission, denials: int) -> OutageRecord | None:
        """Feed every answer of the view (``denials``: the gate's total so far); returns
        the outage in progress, if any."""
        ongoing = self.current
        if permission.code not in STALE_CODES:
            self._confirmed_once = True
            if ongoing is not None:
                ongoing.orders_denied = denials - ongoing.denials_at_start
                ongoing.end = self._wall()
            return None
        if ongoing is None and self._confirmed_once:
            ongoing = OutageRecord(self._wall(), self._mono(), denials, problem=permission.reason)
            self.records.append(ongoing)
            del self.records[:-20]  # a flapping network must not grow the report without bound
        if ongoing is not None:
            ongoing.orders_denied = denials - ongoing.denials_at_start
        return ongoing

    def keep_orders(self, ongoing: OutageRecord) -> bool:
        """Whether resting orders may still wait for the database to return."""
        return self._mono() - ongoing.started_mono < self.cancel_after_s and ongoing.orders_cancelled_at is None

    def cancelled(self, ongoing: OutageRecord, count: int) -> None:
        ongoing.orders_cancelled += count
        if ongoing.orders_cancelled_at is None:
            ongoing.orders_cancelled_at = self._wall()

    def as_dicts(self) -> list[dict[str, object]]:
        return [r.as_dict() for r in self.records]
