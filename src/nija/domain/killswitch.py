"""Rules of the latched kill switch.

Activation always succeeds and forces EMERGENCY_STOP. Deactivation needs a reason,
clears every sign of the kill (record and kill file) and moves the state to OFF; it is
also the operator's repair path for unreadable records, whose bytes the store keeps."""

from __future__ import annotations

import hashlib
from datetime import datetime

from nija.domain.actions import FixAction
from nija.domain.change import Change
from nija.domain.errors import SafetyRefusal
from nija.domain.records import (
    KillAction,
    KillEvent,
    KillRecord,
    Snapshot,
    TradingRecord,
    Unreadable,
)
from nija.domain.states import TradingState
from nija.domain.transitions import Who, forced_stop, transition

DEFAULT_ACTIVATION_REASON = "Manual activation"


def activate(snapshot: Snapshot, reason: str, who: Who, now: datetime) -> Change:
    reason = reason.strip() or DEFAULT_ACTIVATION_REASON
    kill = _readable_kill(snapshot).with_event(KillEvent(KillAction.ACTIVATE, reason, now, who.source, who.actor))
    # An unreadable state record already reads as EMERGENCY_STOP: leave its bytes alone.
    trading = None
    if isinstance(snapshot.trading, TradingRecord):
        stopped = forced_stop(snapshot.trading, f"Kill switch activated: {reason}", who, now)
        trading = stopped if stopped is not snapshot.trading else None
    return Change(trading=trading, kill=kill)


def deactivate(snapshot: Snapshot, reason: str, who: Who, now: datetime) -> Change:
    reason = reason.strip()
    if not reason:
        raise SafetyRefusal(
            "Deactivating the kill switch needs a reason",
            'Say what was fixed: python emergency_kill_switch.py deactivate "Issue resolved: <describe fix>"',
            code="REASON_REQUIRED",
            action=FixAction.KILL_DEACTIVATE_REASON,
        )
    if not snapshot.kill_active:
        return Change(messages=("Kill switch is not active: nothing to deactivate",))
    messages: list[str] = []
    kill = _readable_kill(snapshot).with_event(KillEvent(KillAction.DEACTIVATE, reason, now, who.source, who.actor))
    if isinstance(snapshot.kill, Unreadable):
        messages.append(f"Replaced the unreadable kill switch record {snapshot.kill.location}")
    trading: TradingRecord | None
    if isinstance(snapshot.trading, Unreadable):
        messages.append(f"Replaced the unreadable trading state record {snapshot.trading.location}")
        fresh = TradingRecord(current_state=TradingState.EMERGENCY_STOP)
        trading = transition(
            fresh,
            TradingState.OFF,
            f"Kill switch deactivated: {reason} (the unreadable state record was replaced)",
            who,
            now,
            kill_active=False,
        )
    elif snapshot.trading.current_state is TradingState.OFF:
        trading = None
    else:
        trading = transition(
            snapshot.trading,
            TradingState.OFF,
            f"Kill switch deactivated: {reason}",
            who,
            now,
            kill_active=False,
        )
    return Change(trading=trading, kill=kill, clear_kill_flag=snapshot.kill_flag, messages=tuple(messages))


def _readable_kill(snapshot: Snapshot) -> KillRecord:
    return snapshot.kill if isinstance(snapshot.kill, KillRecord) else KillRecord()


def seen(snapshot: Snapshot) -> str:
    """A fingerprint of the kill switch as an operator sees it. Any new kill changes it:
    the event count and the newest event's time, actor and reason are all in it."""
    kill = snapshot.kill
    if not isinstance(kill, KillRecord):
        basis = f"unreadable|{snapshot.kill_flag}"
    else:
        last = kill.history[-1] if kill.history else None
        newest = f"{last.timestamp.isoformat()}|{last.actor}|{last.reason}" if last else "-"
        basis = f"{len(kill.history)}|{newest}|{kill.is_active}|{snapshot.kill_flag}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]
