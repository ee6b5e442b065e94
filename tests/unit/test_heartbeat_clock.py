"""A heartbeat vouches for a running bot only while its age, on the reader's clock, lies
between a small clock-skew tolerance in the future and HEARTBEAT_MAX_AGE in the past.
A beat from further in the future says the two clocks disagree: its age is unknown, so
it vouches for nothing (a wall clock stepped back after a crash kept a dead bot "alive"
for the size of the step)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nija.domain import diagnosis
from nija.domain.errors import BotAlreadyRunning, LiveRequestRefused
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LiveCode, LivePolicy
from nija.domain.permission import PermissionCode, decide
from nija.domain.records import (
    HEARTBEAT_CLOCK_TOLERANCE,
    HEARTBEAT_MAX_AGE,
    Heartbeat,
    LiveGrant,
    Snapshot,
    TradingRecord,
    Transition,
    heartbeat_words,
)
from nija.domain.states import Mode, TradingState
from nija.domain.transitions import Who
from nija.runtime.run_claim import hold_run_claim
from nija.service import SafetyService
from nija.store.memory import MemoryStore
from nija.testing import FakeClock, HeartbeatBot

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SLIGHTLY = timedelta(milliseconds=100)
ALICE, BOB = Who("alice@host", "cli"), Who("bob@host", "api")


def beat_at(moment: datetime) -> Heartbeat:
    return Heartbeat(4242, "bot-host", moment, NOW - timedelta(hours=2), run_id="r" * 32, live_nonce="n" * 32)


@pytest.mark.parametrize(
    ("offset", "alive"),
    [
        (timedelta(hours=1), False),  # the clock was stepped back an hour after the crash
        (HEARTBEAT_CLOCK_TOLERANCE + SLIGHTLY, False),
        (HEARTBEAT_CLOCK_TOLERANCE - SLIGHTLY, True),
        (timedelta(0), True),
        (-HEARTBEAT_MAX_AGE, True),
        (-HEARTBEAT_MAX_AGE - SLIGHTLY, False),
    ],
)
def test_a_beat_is_alive_only_within_its_age_on_one_side_and_the_skew_on_the_other(
    offset: timedelta, alive: bool
) -> None:
    assert beat_at(NOW + offset).is_alive(NOW, HEARTBEAT_MAX_AGE) is alive


def test_the_tolerance_is_small_next_to_the_heartbeats_life() -> None:
    assert timedelta(0) < HEARTBEAT_CLOCK_TOLERANCE <= timedelta(seconds=5)
    assert HEARTBEAT_CLOCK_TOLERANCE < HEARTBEAT_MAX_AGE


def test_a_beat_from_the_future_may_still_be_a_running_bot_for_a_claim() -> None:
    """Whoever would take over a run (or trade live beside it) must not: its age is unknown."""
    ahead = beat_at(NOW + timedelta(hours=1))
    assert ahead.may_be_running(NOW, HEARTBEAT_MAX_AGE)
    assert not replace(ahead, stopped=True).may_be_running(NOW, HEARTBEAT_MAX_AGE)
    assert not beat_at(NOW - 2 * HEARTBEAT_MAX_AGE).may_be_running(NOW, HEARTBEAT_MAX_AGE)


@pytest.mark.parametrize(
    "offset", [timedelta(hours=1), HEARTBEAT_CLOCK_TOLERANCE - SLIGHTLY, timedelta(0), -HEARTBEAT_MAX_AGE / 2]
)
def test_a_readers_live_never_outlasts_the_heartbeats_life_past_the_reading(offset: timedelta) -> None:
    """The cached views end a reader's LIVE this long after the reading that showed the beat."""
    remaining = beat_at(NOW + offset).vouches_for(NOW, HEARTBEAT_MAX_AGE)
    assert timedelta(0) <= remaining <= HEARTBEAT_MAX_AGE
    if offset > HEARTBEAT_CLOCK_TOLERANCE:
        assert remaining == timedelta(0)


def live_snapshot(beat: Heartbeat) -> Snapshot:
    confirmed = Transition(TradingState.LIVE_PENDING_CONFIRMATION, TradingState.LIVE_ACTIVE, "confirmed", NOW)
    grant = LiveGrant(beat.run_id, beat.live_nonce, "p", "bob", "bob", NOW)
    return Snapshot(
        trading=TradingRecord(TradingState.LIVE_ACTIVE, (confirmed,), NOW, live_grant=grant), heartbeat=beat
    )


def test_a_reader_denies_live_on_a_beat_from_the_future() -> None:
    snapshot = live_snapshot(beat_at(NOW + timedelta(hours=1)))
    assert decide(live_snapshot(beat_at(NOW)), now=NOW).mode is Mode.LIVE
    permission = decide(snapshot, now=NOW)
    assert not permission.allowed
    assert permission.code == PermissionCode.LIVE_NOT_VERIFIED
    assert "in the future" in permission.reason
    assert "clock" in permission.reason


def test_status_says_the_clocks_disagree_never_a_negative_age() -> None:
    report = diagnosis.report(live_snapshot(beat_at(NOW + timedelta(seconds=3142))), NOW)
    assert not report.bot_alive
    assert not report.can_trade
    assert heartbeat_words(report.heartbeat.last_beat, NOW) == (  # type: ignore[union-attr]
        "its heartbeat is 3142 s in the future: this host's clock and the bot's disagree"
    )
    codes = [i.code for i in report.inconsistencies]
    assert "HEARTBEAT_FROM_THE_FUTURE" in codes
    found = next(i for i in report.inconsistencies if i.code == "HEARTBEAT_FROM_THE_FUTURE")
    assert "3142 s in the future" in found.message
    assert "NTP" in found.fix or "clock" in found.fix
    assert heartbeat_words(NOW - timedelta(seconds=12), NOW) == "last heartbeat 12s ago"


def test_a_live_request_for_a_beat_from_the_future_is_refused_on_its_inconsistency() -> None:
    clock = FakeClock()
    store = MemoryStore()
    service = SafetyService(store, clock=clock, policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(ALICE)
    HeartbeatBot(store, lambda: clock.now + timedelta(hours=1))  # its host's clock runs an hour ahead
    with pytest.raises(LiveRequestRefused, match="HEARTBEAT_FROM_THE_FUTURE"):
        service.request_live(ALICE, credentials_configured=True)
    assert store.load().trading.current_state is TradingState.DRY_RUN  # type: ignore[union-attr]


def test_a_request_made_on_a_clock_ahead_cannot_be_confirmed_beyond_its_window() -> None:
    """The requester's clock ran 10 s ahead (the bot's beat still looked alive to it): its
    expiry lies 10 s beyond the policy's window on the confirmer's clock."""
    clock = FakeClock()
    store = MemoryStore()
    policy = LivePolicy(min_dry_run=timedelta(0))
    requester = SafetyService(store, clock=lambda: clock.now + timedelta(seconds=10), policy=policy)
    confirmer = SafetyService(store, clock=clock, policy=policy)
    requester.restore(ALICE)
    bot = HeartbeatBot(store, clock)
    request = requester.request_live(ALICE, credentials_configured=True)
    bot.step()  # acknowledges it
    with pytest.raises(LiveRequestRefused, match="clocks") as refused:
        confirmer.confirm_live(request.code, ACKNOWLEDGMENT_PHRASE, BOB)
    assert str(refused.value.code) == LiveCode.REQUEST_FROM_THE_FUTURE
    assert store.load().trading.current_state is TradingState.LIVE_PENDING_CONFIRMATION  # type: ignore[union-attr]


def test_a_run_claim_beside_a_beat_from_the_future_on_another_host_is_refused(tmp_path: Path) -> None:
    """Its bot may run on a clock that runs ahead: taking its place could run two bots."""
    ahead = replace(beat_at(NOW + timedelta(hours=1)), host="other-host.example")
    with pytest.raises(BotAlreadyRunning, match="in the future") as refused:
        hold_run_claim(tmp_path, bot=None, heartbeat=ahead, now=NOW)
    assert "NTP" in refused.value.fix
