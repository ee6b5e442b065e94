"""Capital safety II on every backend: a repeated activation keeps the kill's cause, a
bare flag is recorded with its own cause, and a refused deactivation writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nija.domain.errors import SafetyRefusal
from nija.domain.records import KillAction, KillRecord, TradingRecord
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.ports import Store
from nija.testing import FakeClock
from tests.contract.backends import Backend

ALICE = Who("alice@host", "cli")
BOB = Who("bob@host", "api")


def test_activating_an_active_kill_switch_keeps_the_cause_and_adds_a_note(store: Store) -> None:
    clock = FakeClock()
    svc = SafetyService(store, clock=clock)
    first_at = clock()
    svc.activate_kill("exchange outage", ALICE)
    clock.advance(minutes=5)
    again = svc.activate_kill("still down?", BOB)
    assert again.messages
    assert "already active since" in again.messages[0]
    assert "exchange outage" in again.messages[0]
    report = svc.status()
    cause = report.last_activation
    assert cause is not None
    assert (cause.reason, cause.actor, cause.source, cause.timestamp) == (
        "exchange outage",
        "alice@host",
        "cli",
        first_at,
    )
    kills = svc.history()[1]
    assert [(k.reason, k.repeated) for k in kills] == [("exchange outage", False), ("still down?", True)]
    assert kills[-1].action is KillAction.ACTIVATE
    assert kills[-1].actor == "bob@host"
    # After a deactivation and a new kill, the new kill is the cause.
    svc.deactivate_kill("fixed", ALICE)
    clock.advance(minutes=1)
    svc.activate_kill("second incident", BOB)
    cause = svc.status().last_activation
    assert cause is not None
    assert cause.reason == "second incident"


def test_a_bare_flag_is_recorded_with_its_own_cause(store: Store) -> None:
    svc = SafetyService(store, clock=FakeClock())
    svc.restore(ALICE)
    raised_at = datetime(2026, 2, 17, 21, 0, tzinfo=UTC)
    store.raise_kill_flag("raised by the risk desk", BOB, raised_at)  # its recorder never ran
    snap = store.load()
    assert snap.kill_active
    assert isinstance(snap.kill, KillRecord)
    assert not snap.kill.is_active
    assert svc.adopt_kill_flag(ALICE) is not None
    cause = svc.status().last_activation
    assert cause is not None
    assert (cause.reason, cause.actor, cause.timestamp) == ("raised by the risk desk", "bob@host", raised_at)
    assert svc.status().state is TradingState.EMERGENCY_STOP
    assert svc.adopt_kill_flag(ALICE) is None  # recorded once


def test_the_activation_that_raised_a_flag_already_recorded_is_not_recorded_twice(store: Store) -> None:
    """A bot may record a kill file the moment it appears, before its raiser takes the lock."""
    clock = FakeClock()
    svc = SafetyService(store, clock=clock)
    other = SafetyService(store, clock=clock)
    store.raise_kill_flag("operator stop", ALICE, clock())
    other.adopt_kill_flag(Who("bot", "bot"))
    kills_before = len(svc.history()[1])
    # The raiser now records the same activation (same time, reason, actor): nothing more.
    from nija.domain import killswitch

    with store.transaction() as tx:
        change = killswitch.activate(tx.snapshot, "operator stop", ALICE, clock())
        assert change.kill is None
    assert len(svc.history()[1]) == kills_before


def test_a_refused_deactivation_writes_nothing(backend: Backend, store: Store) -> None:
    clock = FakeClock()
    svc = SafetyService(store, clock=clock)
    svc.restore(ALICE)
    svc.activate_kill("first", ALICE)
    seen = svc.kill_seen()
    before = store.load()
    clock.advance(seconds=1)
    backend.another(store).raise_kill_flag("second", BOB, clock() + timedelta(seconds=1))
    with pytest.raises(SafetyRefusal):
        svc.deactivate_kill("fixed", ALICE, expected=seen)
    after = store.load()
    assert isinstance(after.trading, TradingRecord)
    assert isinstance(before.trading, TradingRecord)
    assert after.trading.history == before.trading.history
    assert after.trading.current_state is TradingState.EMERGENCY_STOP
    assert isinstance(after.kill, KillRecord)
    assert isinstance(before.kill, KillRecord)
    assert after.kill.history == before.kill.history
    assert after.kill_active
