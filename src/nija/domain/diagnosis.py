"""Status diagnosis: the whole picture of one bot and every inconsistency, each with a
stable code, what it means and how to fix it (DESIGN.md section 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from nija.domain.actions import CLI_COMMAND, FixAction
from nija.domain.killswitch import seen
from nija.domain.permission import Permission, decide, reached_live_by_confirmation
from nija.domain.records import (
    Heartbeat,
    KillEvent,
    KillRecord,
    Snapshot,
    TradingRecord,
    Transition,
    Unreadable,
)
from nija.domain.states import TradingState
from nija.domain.transitions import DEACTIVATE_HINT

RESTORE = CLI_COMMAND[FixAction.RESTORE]
HEARTBEAT_MAX_AGE = timedelta(seconds=15)


# What each inconsistency's fix does, for the front ends' keys and buttons (None: no
# button fixes it, e.g. a file permission).
_ACTION_FOR_CODE: dict[str, FixAction] = {
    "EMERGENCY_STOP_WITHOUT_KILL": FixAction.RESTORE,
    "KILL_ACTIVE_STATE_NOT_STOPPED": FixAction.KILL_ACTIVATE,
    "KILL_FILE_WITHOUT_RECORD": FixAction.KILL_DEACTIVATE,
    "KILL_RECORD_WITHOUT_FILE": FixAction.KILL_DEACTIVATE,
    "STATE_FILE_CORRUPT": FixAction.KILL_DEACTIVATE,
    "KILL_STATE_CORRUPT": FixAction.KILL_DEACTIVATE,
    "LIVE_STATE_WITHOUT_BOT": FixAction.RESTORE,
    "PENDING_CONFIRMATION_EXPIRED": FixAction.RESTORE,
    "HISTORY_MISMATCH": FixAction.RESET,
}


@dataclass(frozen=True, slots=True)
class Inconsistency:
    code: str
    message: str
    fix: str  # the command line's words
    details: tuple[str, ...] = ()

    @property
    def action(self) -> FixAction | None:
        return _ACTION_FOR_CODE.get(self.code)


@dataclass(frozen=True, slots=True)
class StatusReport:
    state: TradingState
    kill_active: bool
    kill_record_active: bool | None  # None when the record is unreadable
    kill_file_exists: bool
    last_activation: KillEvent | None
    permission: Permission
    heartbeat: Heartbeat | None
    bot_alive: bool
    inconsistencies: tuple[Inconsistency, ...]
    recent_history: tuple[Transition, ...]
    checked_at: datetime
    kill_seen: str = ""  # fingerprint to pass back when deactivating (killswitch.seen)

    @property
    def can_trade(self) -> bool:
        return self.permission.allowed


def report(snapshot: Snapshot, now: datetime, *, history_items: int = 5) -> StatusReport:
    bot_alive = snapshot.heartbeat is not None and snapshot.heartbeat.is_alive(now, HEARTBEAT_MAX_AGE)
    kill = snapshot.kill
    history = snapshot.trading.history if isinstance(snapshot.trading, TradingRecord) else ()
    return StatusReport(
        state=snapshot.state,
        kill_active=snapshot.kill_active,
        kill_record_active=kill.is_active if isinstance(kill, KillRecord) else None,
        kill_file_exists=snapshot.kill_flag,
        last_activation=kill.last_activation if isinstance(kill, KillRecord) else None,
        permission=decide(snapshot),
        heartbeat=snapshot.heartbeat,
        bot_alive=bot_alive,
        inconsistencies=diagnose(snapshot, now, bot_alive=bot_alive),
        recent_history=history[-history_items:] if history_items else (),
        checked_at=now,
        kill_seen=seen(snapshot),
    )


def diagnose(snapshot: Snapshot, now: datetime, *, bot_alive: bool) -> tuple[Inconsistency, ...]:
    found: list[Inconsistency] = []
    trading, kill = snapshot.trading, snapshot.kill
    if isinstance(trading, Unreadable):
        found.append(_corrupt("STATE_FILE_CORRUPT", "trading state", trading))
    if isinstance(kill, Unreadable):
        found.append(_corrupt("KILL_STATE_CORRUPT", "kill switch", kill))
    if isinstance(trading, TradingRecord) and isinstance(kill, KillRecord):
        found.extend(_state_vs_kill(trading, snapshot))
    if isinstance(trading, TradingRecord):
        found.extend(_state_checks(trading, now, bot_alive))
    if isinstance(kill, KillRecord):
        if snapshot.kill_flag and not kill.is_active:
            found.append(
                Inconsistency(
                    "KILL_FILE_WITHOUT_RECORD",
                    "The kill file EMERGENCY_STOP exists but the kill switch record says inactive; "
                    "the kill switch is treated as ACTIVE",
                    f"If the stop was intended, nothing to do. To resume, resolve the cause and run: {DEACTIVATE_HINT}",
                    (
                        "• Kill file EMERGENCY_STOP exists",
                        "• But the kill switch record is inactive",
                        "• Trading is blocked (the kill file alone means active)",
                    ),
                )
            )
        if kill.is_active and not snapshot.kill_flag:
            found.append(
                Inconsistency(
                    "KILL_RECORD_WITHOUT_FILE",
                    "The kill switch is recorded active but the kill file is missing; it is still ACTIVE "
                    "(deleting the kill file deactivates nothing)",
                    f"To resume, resolve the cause and run: {DEACTIVATE_HINT}",
                    (
                        "• Kill switch record is active",
                        "• But the kill file EMERGENCY_STOP is missing",
                        "• Trading stays blocked",
                    ),
                )
            )
    for location in snapshot.not_writable:
        found.append(
            Inconsistency(
                "FILE_NOT_WRITABLE",
                f"Cannot write {location}",
                "Make it writable by the user running NIJA, e.g. chmod 644 on the file, or u+w on "
                "the data directory, and check the disk is not full or mounted read-only",
            )
        )
    return tuple(found)


def _corrupt(code: str, what: str, bad: Unreadable) -> Inconsistency:
    return Inconsistency(
        code,
        f"The {what} record {bad.location} is unreadable ({bad.detail}); treated as "
        "EMERGENCY_STOP with the kill switch active",
        f"Inspect the file, resolve the cause, then run: {DEACTIVATE_HINT} "
        "(the unreadable bytes are kept in a .corrupt backup next to it)",
    )


def _state_vs_kill(trading: TradingRecord, snapshot: Snapshot) -> list[Inconsistency]:
    state = trading.current_state
    if state is TradingState.EMERGENCY_STOP and not snapshot.kill_active:
        return [
            Inconsistency(
                "EMERGENCY_STOP_WITHOUT_KILL",
                "State machine is in EMERGENCY_STOP but the kill switch is deactivated: "
                "trading is blocked unnecessarily",
                f"Run '{RESTORE}'",
                (
                    "• State machine is in EMERGENCY_STOP",
                    "• But kill switch is DEACTIVATED",
                    "• Trading is blocked unnecessarily",
                ),
            )
        ]
    if state is not TradingState.EMERGENCY_STOP and snapshot.kill_active:
        return [
            Inconsistency(
                "KILL_ACTIVE_STATE_NOT_STOPPED",
                f"The kill switch is active but the state machine is in {state}; no order passes, "
                "the state should be EMERGENCY_STOP",
                "Run 'python emergency_kill_switch.py activate \"<reason>\"' to record the stop, or "
                f"resolve the cause and run: {DEACTIVATE_HINT}",
                (f"• State machine is in {state}", "• But kill switch is ACTIVE", "• No order can be placed"),
            )
        ]
    return []


def _state_checks(trading: TradingRecord, now: datetime, bot_alive: bool) -> list[Inconsistency]:
    found: list[Inconsistency] = []
    state = trading.current_state
    if state.is_live and not bot_alive:
        found.append(
            Inconsistency(
                "LIVE_STATE_WITHOUT_BOT",
                f"State is {state} but no bot is alive (no recent heartbeat)",
                f"Run '{RESTORE}' to return to DRY_RUN; a bot starting up turns a persisted live state into OFF",
            )
        )
    if state is TradingState.LIVE_PENDING_CONFIRMATION:
        pending = trading.pending_live
        if pending is None or now >= pending.expires_at:
            found.append(
                Inconsistency(
                    "PENDING_CONFIRMATION_EXPIRED",
                    "A live request is older than its confirmation window and can no longer be confirmed",
                    f"Run '{RESTORE}' (back to DRY_RUN), then request live trading again if intended",
                )
            )
    mismatch = _history_mismatch(trading)
    if mismatch:
        found.append(
            Inconsistency(
                "HISTORY_MISMATCH",
                mismatch + " (edited by hand?); live orders are refused",
                "Check who edited .nija_trading_state.json, then run 'python safe_restore_trading.py reset' "
                "and 'restore' to re-record the state",
            )
        )
    return found


def _history_mismatch(trading: TradingRecord) -> str:
    state = trading.current_state
    if not trading.history:
        return "" if state is TradingState.OFF else f"State is {state} but the history is empty"
    last = trading.history[-1]
    if last.to_state is not state:
        return f"The last history entry leads to {last.to_state} but current_state is {state}"
    if state is TradingState.LIVE_ACTIVE and not reached_live_by_confirmation(trading):
        return "LIVE_ACTIVE was not reached by a live confirmation"
    return ""
