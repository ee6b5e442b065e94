"""Rules of the latched kill switch.

Activation always succeeds and forces EMERGENCY_STOP. Activating an active kill switch
keeps the kill's cause (the first activation's reason, actor and time) and adds the new
reason as a note. A kill flag nobody recorded yet (``touch EMERGENCY_STOP``) is adopted:
recorded with its own cause when the flag says who raised it. Deactivation needs a
reason, clears every sign of the kill (record and kill file) and moves the state to OFF;
it is also the operator's repair path for unreadable records, whose bytes the store keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from nija.domain.actions import FixAction
from nija.domain.change import Change
from nija.domain.codes import ErrorCode
from nija.domain.errors import SafetyRefusal
from nija.domain.records import (
    KillAction,
    KillEvent,
    KillFlag,
    KillFlagKind,
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
    this = KillEvent(KillAction.ACTIVATE, reason, now, who.source, who.actor)
    kill = _with_flag_cause(snapshot, who, now, this)
    messages: tuple[str, ...] = ()
    if kill.is_active:
        cause = kill.last_activation
        if cause is not None and _same_event(cause, this):
            # The flag this very activation raised, already recorded by a process that saw it.
            return _stop(snapshot, kill, cause, who, now)
        kill = kill.with_event(replace(this, repeated=True))
        messages = (already_active(cause),)
    else:
        kill = kill.with_event(this)
        cause = this
    return _stop(snapshot, kill, cause, who, now, messages)


def adopt(snapshot: Snapshot, who: Who, now: datetime) -> Change:
    """Record an unrecorded kill flag, so that deleting the flag deactivates nothing."""
    if not _unrecorded_flag(snapshot):
        return Change()
    kill = _with_flag_cause(snapshot, who, now, None)
    cause = kill.last_activation
    # A flag that says who raised it (the CLI's or the API's, ahead of its own record) is
    # that person's stop, whichever process records it first; a bare one is the adopter's.
    by = who if cause is None or _flag_is_bare(snapshot) else Who(cause.actor, cause.source)
    return _stop(snapshot, kill, cause, by, now)


def _flag_is_bare(snapshot: Snapshot) -> bool:
    flag = _unrecorded_flag(snapshot)
    return flag is None or flag.raised is None


def already_active(cause: KillEvent | None) -> str:
    if cause is None:
        return "Kill switch already active; your reason was added to the history as a note"
    return (
        f"Kill switch already active since {cause.timestamp.isoformat(timespec='seconds')} ({cause.reason}, "
        f"by {cause.actor} via {cause.source}); your reason was added to the history as a note"
    )


def _unrecorded_flag(snapshot: Snapshot) -> KillFlag | None:
    """The scope's own flag when its kill record is readable and says inactive."""
    flag = snapshot.flag
    if flag is None or not snapshot.kill_flag or not isinstance(snapshot.kill, KillRecord) or snapshot.kill.is_active:
        return None
    return flag


def _with_flag_cause(snapshot: Snapshot, who: Who, now: datetime, this: KillEvent | None) -> KillRecord:
    """The kill record with an unrecorded flag's own activation appended first: the flag
    came first, so it is the kill's cause. ``this``: an activation that raised that flag."""
    kill = _readable_kill(snapshot)
    flag = _unrecorded_flag(snapshot)
    if flag is None:
        return kill
    cause = flag.raised
    if cause is None:
        if this is not None:
            return kill  # a bare `touch`: the activation being recorded says more
        what = "" if flag.kind is KillFlagKind.FILE else f" (a {flag.kind})"
        cause = KillEvent(KillAction.ACTIVATE, f"Kill file EMERGENCY_STOP found{what}", now, who.source, who.actor)
    return kill.with_event(replace(cause, action=KillAction.ACTIVATE, repeated=False))


def _same_event(a: KillEvent, b: KillEvent) -> bool:
    return (a.reason, a.timestamp, a.actor, a.source) == (b.reason, b.timestamp, b.actor, b.source)


def _stop(
    snapshot: Snapshot,
    kill: KillRecord,
    cause: KillEvent | None,
    who: Who,
    now: datetime,
    messages: tuple[str, ...] = (),
) -> Change:
    # An unreadable state record already reads as EMERGENCY_STOP: leave its bytes alone.
    trading = None
    if isinstance(snapshot.trading, TradingRecord):
        why = cause.reason if cause is not None else DEFAULT_ACTIVATION_REASON
        stopped = forced_stop(snapshot.trading, f"Kill switch activated: {why}", who, now)
        trading = stopped if stopped is not snapshot.trading else None
    changed_kill = None if kill == snapshot.kill else kill
    return Change(trading=trading, kill=changed_kill, messages=messages)


def deactivate(snapshot: Snapshot, reason: str, who: Who, now: datetime) -> Change:
    reason = reason.strip()
    if not reason:
        raise SafetyRefusal(
            "Deactivating the kill switch needs a reason",
            'Say what was fixed: python emergency_kill_switch.py deactivate "Issue resolved: <describe fix>"',
            code=ErrorCode.REASON_REQUIRED,
            action=FixAction.KILL_DEACTIVATE_REASON,
        )
    if not snapshot.kill_active:
        return Change(messages=("Kill switch is not active: nothing to deactivate",))
    flag = snapshot.flag
    if flag is not None and not flag.removable:
        raise SafetyRefusal(
            f"The kill file {flag.location or 'EMERGENCY_STOP'} is a {flag.kind}, not a regular file: NIJA does "
            "not remove it, so the kill switch stays ACTIVE; nothing was written",
            f"Look at it ({_LOOK[flag.kind]} {flag.location}), remove it yourself ({_REMOVE[flag.kind]} "
            f"{flag.location}), then run the deactivation again",
            code=ErrorCode.KILL_FILE_NOT_REGULAR,
        )
    messages: list[str] = []
    ended = KillEvent(KillAction.DEACTIVATE, reason, now, who.source, who.actor)
    kill = _with_flag_cause(snapshot, who, now, None).with_event(ended)
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
    the newest event (its action, time, actor and reason), whether the kill is active, and
    the kill flag's identity (a new kill file, or a touch of the old one) are all in it.

    Not the number of events: a store may load fewer of them inside a transaction than
    outside (PostgreSQL reads the newest ``TX_HISTORY`` under its lock), and a count would
    then differ between the operator's look and the check, refusing every deactivation of
    a long history. Every new event is the newest one, so nothing is lost by leaving it out."""
    kill = snapshot.kill
    if not isinstance(kill, KillRecord):
        basis = f"unreadable|{snapshot.kill_flag}"
    else:
        last = kill.history[-1] if kill.history else None
        newest = (
            f"{last.action}|{last.timestamp.isoformat()}|{last.actor}|{last.reason}|{last.repeated}" if last else "-"
        )
        basis = f"{newest}|{kill.is_active}|{snapshot.kill_flag}"
    if snapshot.flag is not None:
        basis += f"|{snapshot.flag.kind}|{snapshot.flag.identity}"  # a touch or a new file changes it
    import hashlib  # OpenSSL loads only when a fingerprint is taken, not for every status

    return hashlib.sha256(basis.encode()).hexdigest()[:16]


_LOOK = {
    KillFlagKind.DIRECTORY: "ls -la",
    KillFlagKind.SYMLINK: "ls -l",
    KillFlagKind.DANGLING_SYMLINK: "ls -l",
}
_REMOVE = {KillFlagKind.DIRECTORY: "rm -r"}
for _kind in KillFlagKind:
    _LOOK.setdefault(_kind, "ls -l")
    _REMOVE.setdefault(_kind, "rm")  # rm on a link removes the link, never its target
