"""A cached reader view (PostgreSQL's, the host agent's client) keeps a LIVE it read at
most HEARTBEAT_MAX_AGE past the reading that showed the beat, whatever the bot's clock
said: it once added the beat's lead over this host's clock to that time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nija.domain.permission import LIVE, PermissionCode
from nija.domain.records import HEARTBEAT_CLOCK_TOLERANCE, HEARTBEAT_MAX_AGE, Heartbeat
from nija.domain.states import Mode
from nija.store.postgres.view import NOT_CHECKED, CachedPermission
from tests.unit.test_heartbeat_clock import live_snapshot

WALL = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
READ_AT = 1000.0  # the view's monotonic clock when the reading began


class Monotonic:
    def __init__(self) -> None:
        self.now = READ_AT

    def __call__(self) -> float:
        return self.now


def reader_view(clock: Monotonic) -> CachedPermission:
    view = CachedPermission()
    view.stale_after_s = 3600.0  # refreshes far apart: only the beat's life ends the LIVE
    view.changed_ns = 0
    view._clock = clock
    view._wall = lambda: WALL
    view._confirmed_at = READ_AT
    view._problem = "connected"
    view._permission = NOT_CHECKED
    return view


def beat(ahead: timedelta) -> Heartbeat:
    return Heartbeat(4242, "bot-host", WALL + ahead, WALL - timedelta(hours=1), run_id="r" * 32, live_nonce="n" * 32)


def test_a_beat_just_ahead_keeps_live_no_longer_than_its_life_past_the_reading() -> None:
    clock = Monotonic()
    view = reader_view(clock)
    view._decide_as_reader(live_snapshot(beat(HEARTBEAT_CLOCK_TOLERANCE)), READ_AT, None)
    clock.now = READ_AT + HEARTBEAT_MAX_AGE.total_seconds() - 0.1
    assert view.check() == LIVE
    clock.now = READ_AT + HEARTBEAT_MAX_AGE.total_seconds() + 0.1
    assert view.check().code == PermissionCode.LIVE_NOT_VERIFIED


def test_a_live_read_late_ends_from_the_reading_not_from_the_decision() -> None:
    clock = Monotonic()
    view = reader_view(clock)
    clock.now = READ_AT + 5  # the answer came in late (a slow server): the beat aged meanwhile
    view._decide_as_reader(live_snapshot(beat(timedelta(0))), READ_AT, None)
    clock.now = READ_AT + HEARTBEAT_MAX_AGE.total_seconds() + 0.1
    assert view.check().mode is not Mode.LIVE
