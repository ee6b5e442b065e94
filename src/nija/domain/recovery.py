"""The guide's recovery plans: ``restore`` (to DRY_RUN) and ``reset`` (to OFF).

A plan is computed, shown to the operator, then recomputed under the store's lock and
applied only if it is still the same plan: a state that changed while the operator was
reading the prompt is never acted on blindly. No plan ever leads to a live state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nija.domain.actions import FixAction
from nija.domain.errors import KillSwitchActive
from nija.domain.records import Snapshot, TradingRecord, Unreadable
from nija.domain.states import TradingState
from nija.domain.transitions import DEACTIVATE_HINT, Who, transition

S = TradingState


@dataclass(frozen=True, slots=True)
class Step:
    from_state: TradingState
    to_state: TradingState
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    action: str
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()

    @property
    def nothing_to_do(self) -> bool:
        return not self.steps

    @property
    def path(self) -> str:
        if not self.steps:
            return ""
        return " → ".join([self.steps[0].from_state, *(s.to_state for s in self.steps)])


_RESTORE_STEPS: dict[TradingState, tuple[Step, ...]] = {
    S.EMERGENCY_STOP: (
        Step(S.EMERGENCY_STOP, S.OFF, "Safe recovery: Clearing emergency stop"),
        Step(S.OFF, S.DRY_RUN, "Safe recovery: Enabling simulation mode"),
    ),
    S.OFF: (Step(S.OFF, S.DRY_RUN, "Safe recovery: Enabling simulation mode"),),
    S.LIVE_PENDING_CONFIRMATION: (
        Step(S.LIVE_PENDING_CONFIRMATION, S.DRY_RUN, "Safe recovery: Cancelling pending live request"),
    ),
    S.LIVE_ACTIVE: (Step(S.LIVE_ACTIVE, S.DRY_RUN, "Safe recovery: Leaving live trading for simulation"),),
    S.DRY_RUN: (),
}

LIVE_POSITIONS_WARNING = (
    "Live trading is being stopped: positions and orders opened live stay open on the "
    "exchange. Check them there and close what you do not want to keep."
)


def plan_restore(snapshot: Snapshot) -> Plan:
    _refuse_while_killed(snapshot, "restore")
    state = snapshot.state
    warnings = (LIVE_POSITIONS_WARNING,) if state is S.LIVE_ACTIVE else ()
    return Plan("restore", _RESTORE_STEPS[state], warnings)


def plan_reset(snapshot: Snapshot) -> Plan:
    _refuse_while_killed(snapshot, "reset")
    state = snapshot.state
    if state is S.OFF:
        return Plan("reset", ())
    warnings = (LIVE_POSITIONS_WARNING,) if state is S.LIVE_ACTIVE else ()
    return Plan("reset", (Step(state, S.OFF, "Reset: Disabling all trading"),), warnings)


def apply_plan(record: TradingRecord, plan: Plan, who: Who, now: datetime) -> TradingRecord:
    for step in plan.steps:
        record = transition(record, step.to_state, step.reason, who, now, kill_active=False)
    return record


def _refuse_while_killed(snapshot: Snapshot, action: str) -> None:
    if not snapshot.kill_active:
        return
    if isinstance(snapshot.trading, Unreadable):
        why = f"the trading state record is unreadable ({snapshot.trading.detail})"
    elif isinstance(snapshot.kill, Unreadable):
        why = f"the kill switch record is unreadable ({snapshot.kill.detail})"
    elif snapshot.kill_flag and not snapshot.kill.is_active:
        why = "the kill file EMERGENCY_STOP exists"
    else:
        why = "the kill switch is active"
    raise KillSwitchActive(
        f"Cannot {action}: {why}. The kill switch must be deactivated before restoration",
        f"Check why it was activated (python emergency_kill_switch.py history), resolve the issue, "
        f"then run: {DEACTIVATE_HINT}",
        action=FixAction.KILL_DEACTIVATE,
    )
