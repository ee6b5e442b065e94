"""Applying one transition to a trading record, under the table and the kill rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nija.domain.actions import CLI_COMMAND, FixAction
from nija.domain.errors import IllegalTransition, KillSwitchActive
from nija.domain.records import TradingRecord, Transition
from nija.domain.states import TRANSITIONS, TradingState

DEACTIVATE_HINT = CLI_COMMAND[FixAction.KILL_DEACTIVATE]


@dataclass(frozen=True, slots=True)
class Who:
    """Who asks for a change and through which channel (CLI, API, bot, ...).

    ``actor`` is a display name; ``principal`` is what the system vouches for (the OS
    uid for the CLI, the token for the API). Two-person rules compare principals."""

    actor: str
    source: str
    principal: str = ""

    @property
    def identity(self) -> str:
        return self.principal or f"name:{self.actor}"


def check_allowed(current: TradingState, target: TradingState, *, kill_active: bool) -> None:
    """Raise a SafetyRefusal unless ``current -> target`` is allowed right now."""
    if target is TradingState.LIVE_ACTIVE:
        raise IllegalTransition(
            f"Can't move to LIVE_ACTIVE when in {current}: live trading needs a confirmed live request",
            "Request live trading via the API or 'nija live request', then confirm it with the code "
            "and the risk acknowledgment",
            action=FixAction.LIVE_REQUEST,
        )
    if kill_active and target is not TradingState.EMERGENCY_STOP:
        raise KillSwitchActive(
            f"Can't move to {target} when the kill switch is active",
            f"Investigate why it was activated, fix the cause, then run: {DEACTIVATE_HINT}",
            action=FixAction.KILL_DEACTIVATE,
        )
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise IllegalTransition(
            f"Can't move to {target} when in {current}",
            f"From {current} the allowed next states are: {allowed}",
        )


def transition(
    record: TradingRecord,
    target: TradingState,
    reason: str,
    who: Who,
    now: datetime,
    *,
    kill_active: bool,
) -> TradingRecord:
    check_allowed(record.current_state, target, kill_active=kill_active)
    return _append(record, target, reason, who, now)


def confirmed_live(record: TradingRecord, reason: str, who: Who, now: datetime) -> TradingRecord:
    """The only way into LIVE_ACTIVE; callers (live.py) have checked the confirmation."""
    if record.current_state is not TradingState.LIVE_PENDING_CONFIRMATION:
        raise IllegalTransition(
            f"Can't confirm live trading when in {record.current_state}",
            "Request live trading first (state must be LIVE_PENDING_CONFIRMATION)",
        )
    return _append(record, TradingState.LIVE_ACTIVE, reason, who, now)


def forced_stop(record: TradingRecord, reason: str, who: Who, now: datetime) -> TradingRecord:
    """EMERGENCY_STOP is reachable from every state; already stopped changes nothing."""
    if record.current_state is TradingState.EMERGENCY_STOP:
        return record
    return _append(record, TradingState.EMERGENCY_STOP, reason, who, now)


def _append(record: TradingRecord, target: TradingState, reason: str, who: Who, now: datetime) -> TradingRecord:
    entry = Transition(record.current_state, target, reason, now, who.actor, who.source)
    return record.with_transition(entry)
