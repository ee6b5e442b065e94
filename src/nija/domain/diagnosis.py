"""Status diagnosis: the whole picture of one bot and every inconsistency, each with a
stable code, what it means and how to fix it (DESIGN.md section 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nija.domain import records
from nija.domain.actions import CLI_COMMAND, FixAction
from nija.domain.killswitch import seen
from nija.domain.live_auth import KNOWN_REFUSALS
from nija.domain.permission import (
    Permission,
    decide,
    not_verified,
    reached_live_by_confirmation,
)
from nija.domain.records import (
    Heartbeat,
    KillEvent,
    KillRecord,
    Snapshot,
    TradingRecord,
    Transition,
    Unreadable,
    future_beat_words,
)
from nija.domain.states import Mode, TradingState
from nija.domain.transitions import DEACTIVATE_HINT

RESTORE = CLI_COMMAND[FixAction.RESTORE]
HEARTBEAT_MAX_AGE = records.HEARTBEAT_MAX_AGE  # one figure for status and live requests


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
    """Something in the records that does not add up, with the command that repairs it."""

    code: str
    message: str
    fix: str  # the command line's words
    details: tuple[str, ...] = ()

    @property
    def action(self) -> FixAction | None:
        return _ACTION_FOR_CODE.get(self.code)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What ``status`` says: the state, the kill switch, what may trade, the bot and what is wrong."""

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
    snapshot: Snapshot  # what the report was made from

    @property
    def can_trade(self) -> bool:
        return self.permission.allowed

    @property
    def kill_seen(self) -> str:
        """The fingerprint to pass back when deactivating (``killswitch.seen``): taken only
        when asked, since a plain ``status`` shows none and hashing loads OpenSSL."""
        return seen(self.snapshot)


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
        permission=_permission(snapshot, bot_alive, now),
        heartbeat=snapshot.heartbeat,
        bot_alive=bot_alive,
        inconsistencies=diagnose(snapshot, now, bot_alive=bot_alive),
        recent_history=history[-history_items:] if history_items else (),
        checked_at=now,
        snapshot=snapshot,
    )


def _permission(snapshot: Snapshot, bot_alive: bool, now: datetime) -> Permission:
    """What a reader outside the bot can say: live only while the bot that verified it beats."""
    permission = decide(snapshot, now=now)
    if permission.mode is Mode.LIVE and not bot_alive:
        return not_verified("no running bot has verified this confirmation")
    return permission


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
    found.extend(_live_not_verified(snapshot, bot_alive))
    found.extend(_future_beat(snapshot, now))
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


LIVE_NOT_VERIFIED_FIX = (
    "Find what wrote the state (a backup or snapshot restore, rsync/cp of another data directory, "
    "a hand or SQL edit, a second bot on this scope). Then deactivate the kill switch with the reason, "
    f"run '{RESTORE}', and, if live trading is intended, 'nija live request' and confirm for the running bot"
)


def _future_beat(snapshot: Snapshot, now: datetime) -> list[Inconsistency]:
    beat = snapshot.heartbeat
    if beat is None or beat.stopped or not beat.from_the_future(now):
        return []
    return [
        Inconsistency(
            "HEARTBEAT_FROM_THE_FUTURE",
            f"The bot's {future_beat_words(beat.last_beat, now)}; its age cannot be known, so it does not "
            "count as running: live orders are denied to readers and live requests are refused",
            f"Check the clocks (NTP, e.g. 'chronyc tracking') of this host and of {beat.host}; "
            f"once they agree the heartbeat ages normally",
        )
    ]


def _live_not_verified(snapshot: Snapshot, bot_alive: bool) -> list[Inconsistency]:
    """While a bot runs, a LIVE_ACTIVE it did not verify is an incident (invariant 7)."""
    beat = snapshot.heartbeat
    if not bot_alive or beat is None:
        return []
    trading = snapshot.trading
    if beat.live_refused:
        # Heartbeats are files anyone with the directory can write: show only NIJA's own texts.
        known = beat.live_refused in KNOWN_REFUSALS
        detail = beat.live_refused if known else "the running bot refused a LIVE_ACTIVE it could not verify"
    elif isinstance(trading, TradingRecord) and trading.current_state is TradingState.LIVE_ACTIVE:
        grant = trading.live_grant
        if grant is None:
            detail = "the LIVE_ACTIVE record carries no confirmation"
        elif not beat.run_id or grant.run_id != beat.run_id:
            detail = "the confirmation was made for another bot run, not the one running"
        else:
            return []  # made for this run: the bot verifies it (or refuses and says so) within a beat
    else:
        return []
    kill = "the kill switch is ACTIVE" if snapshot.kill_active else "the kill switch is NOT active yet"
    return [
        Inconsistency(
            "LIVE_NOT_VERIFIED",
            f"A LIVE_ACTIVE state was found that the running bot cannot verify ({detail}); every order "
            f"is denied, the bot raises the kill switch on it, and {kill} (a restored or edited live "
            "state is an incident)",
            LIVE_NOT_VERIFIED_FIX,
            (
                "• A LIVE_ACTIVE state appeared under the running bot",
                f"• The bot cannot verify it: {detail}",
                f"• Every order is denied; {kill}",
            ),
        )
    ]


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
