"""What a fleet kill does to one bot (pure rules, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from nija.domain import killswitch
from nija.domain.records import KillAction, KillEvent, KillRecord, Snapshot, TradingRecord, Transition
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.store.postgres.cascade import FLEET_SOURCE, bot_change

NOW = datetime(2026, 2, 17, 22, 0, tzinfo=UTC)
OPERATOR = Who("ops@host", "cli")


def fleet(action: KillAction) -> KillRecord:
    return KillRecord().with_event(KillEvent(action, "market halt", NOW, "cli", "ops@host"))


def dry_run_bot() -> Snapshot:
    record = TradingRecord().with_transition(Transition(TradingState.OFF, TradingState.DRY_RUN, "restore", NOW))
    return Snapshot(trading=record)


def test_when_the_fleet_is_killed_then_a_running_bot_is_stopped_and_its_kill_recorded() -> None:
    change = bot_change(dry_run_bot(), fleet(KillAction.ACTIVATE), NOW)
    assert change is not None
    assert change.trading is not None
    assert change.trading.current_state is TradingState.EMERGENCY_STOP
    assert change.kill is not None
    assert change.kill.is_active
    last = change.kill.history[-1]
    assert (last.source, last.actor, "market halt" in last.reason) == (FLEET_SOURCE, "ops@host", True)


def test_when_the_bot_is_already_killed_then_the_fleet_kill_leaves_it_alone() -> None:
    killed = killswitch.activate(dry_run_bot(), "own", OPERATOR, NOW)
    bot = Snapshot(trading=killed.trading or TradingRecord(), kill=killed.kill or KillRecord())
    assert bot_change(bot, fleet(KillAction.ACTIVATE), NOW) is None


def test_when_the_fleet_kill_is_lifted_then_only_the_kills_it_recorded_are_lifted() -> None:
    stopped = bot_change(dry_run_bot(), fleet(KillAction.ACTIVATE), NOW)
    assert stopped is not None
    assert stopped.trading is not None
    assert stopped.kill is not None
    by_fleet = Snapshot(trading=stopped.trading, kill=stopped.kill)
    lifted = bot_change(by_fleet, fleet(KillAction.DEACTIVATE), NOW)
    assert lifted is not None
    assert lifted.trading is not None
    assert lifted.kill is not None
    assert (lifted.trading.current_state, lifted.kill.is_active) == (TradingState.OFF, False)

    own = killswitch.activate(by_fleet, "own, during the fleet kill", OPERATOR, NOW)
    assert own.kill is not None
    assert bot_change(Snapshot(trading=stopped.trading, kill=own.kill), fleet(KillAction.DEACTIVATE), NOW) is None
    flagged = Snapshot(trading=stopped.trading, kill=stopped.kill, kill_flag=True)
    assert bot_change(flagged, fleet(KillAction.DEACTIVATE), NOW) is None
