"""domain.moves: a transition named by its target (the compat layer's transition_to)."""

from __future__ import annotations

import pytest

from nija.domain.errors import IllegalTransition, KillSwitchActive
from nija.domain.moves import move
from nija.domain.records import KillRecord, Snapshot, TradingRecord, Unreadable
from nija.domain.states import TRANSITIONS, TradingState
from nija.domain.transitions import Who
from nija.testing import FakeClock

S = TradingState
WHO = Who("alice@host", "compat")
NOW = FakeClock()()


def at(state: TradingState, *, killed: bool = False) -> Snapshot:
    return Snapshot(trading=TradingRecord(state), kill=KillRecord(is_active=killed))


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", [S.LIVE_PENDING_CONFIRMATION, S.LIVE_ACTIVE])
def test_live_states_are_never_reached_by_naming_them(current: TradingState, target: TradingState) -> None:
    with pytest.raises(IllegalTransition) as refused:
        move(at(current), target, "go live", WHO, NOW)
    assert refused.value.code == "LIVE_FLOW_REQUIRED"
    assert "nija live request" in refused.value.fix


def test_an_emergency_stop_is_a_kill_not_a_named_state() -> None:
    with pytest.raises(IllegalTransition, match="an emergency stop is a kill"):
        move(at(S.DRY_RUN), S.EMERGENCY_STOP, "stop", WHO, NOW)


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", [S.OFF, S.DRY_RUN])
def test_the_table_decides_and_the_reason_is_recorded(current: TradingState, target: TradingState) -> None:
    if current is target:
        assert move(at(current), target, "again", WHO, NOW).is_empty
        return
    if target not in TRANSITIONS[current]:
        with pytest.raises(IllegalTransition):
            move(at(current), target, "why", WHO, NOW)
        return
    change = move(at(current), target, "why", WHO, NOW)
    assert change.trading is not None
    last = change.trading.history[-1]
    assert (last.from_state, last.to_state, last.reason, last.actor) == (current, target, "why", WHO.actor)


@pytest.mark.parametrize(
    "snapshot",
    [
        at(S.EMERGENCY_STOP, killed=True),
        Snapshot(trading=TradingRecord(S.DRY_RUN), kill_flag=True),
        Snapshot(trading=Unreadable("state", "corrupt")),
    ],
)
def test_nothing_moves_while_a_kill_is_in_force(snapshot: Snapshot) -> None:
    for target in (S.OFF, S.DRY_RUN):
        with pytest.raises(KillSwitchActive):
            move(snapshot, target, "resume", WHO, NOW)
