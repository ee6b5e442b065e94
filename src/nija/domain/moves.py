"""A transition named by its target state, for front ends that say "go to X" (the
original bot's ``transition_to`` through ``nija.compat``).

Only OFF and DRY_RUN can be named: live states are entered only through the live flow
(request, then confirm with the risk acknowledgment), and EMERGENCY_STOP only through the
kill switch, so that a stop is always a latched kill and never a state that a later
transition quietly leaves. The table and the kill rule decide the rest."""

from __future__ import annotations

from datetime import datetime

from nija.domain.change import Change
from nija.domain.codes import ErrorCode
from nija.domain.errors import IllegalTransition
from nija.domain.records import Snapshot, TradingRecord
from nija.domain.states import TradingState
from nija.domain.transitions import Who, check_allowed, transition

LIVE_FLOW = (
    "Live trading is enabled only by the confirmation flow: run 'nija live request' "
    "(from DRY_RUN, after the minimum DRY_RUN period), then confirm it with the code and the "
    "risk acknowledgment via the web control center, the API (POST /api/live/confirm) or "
    "'nija live confirm CODE'"
)
NAMEABLE = frozenset({TradingState.OFF, TradingState.DRY_RUN})


def move(snapshot: Snapshot, target: TradingState, reason: str, who: Who, now: datetime) -> Change:
    """The change that moves the state to ``target``; raises a SafetyRefusal otherwise.
    Already in ``target`` changes nothing."""
    if target.is_live:
        raise IllegalTransition(
            f"Can't move to {target} by naming it: live trading needs the confirmation flow",
            LIVE_FLOW,
            code=ErrorCode.LIVE_FLOW_REQUIRED,
        )
    if target not in NAMEABLE:
        raise IllegalTransition(
            f"Can't move to {target} by naming it: an emergency stop is a kill",
            "Activate the kill switch (it moves the state to EMERGENCY_STOP and stays latched)",
        )
    state = snapshot.state
    if state is target and not snapshot.kill_active:
        return Change(messages=(f"Already {target}: nothing to do",))
    check_allowed(state, target, kill_active=snapshot.kill_active)
    record = snapshot.trading
    assert isinstance(record, TradingRecord)  # unreadable implies kill_active: refused above
    return Change(trading=transition(record, target, reason, who, now, kill_active=False))
