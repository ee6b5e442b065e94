"""Immutable records of the trading state and the kill switch, and the snapshot a
store hands to the domain. No I/O here: stores turn these into bytes or rows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from nija.domain.states import TradingState

# The guide asks for history; an unbounded file slows every write, so keep a window.
MAX_HISTORY = 1000
# A bot whose last heartbeat is older than this is not running (status, live requests).
HEARTBEAT_MAX_AGE = timedelta(seconds=15)
# How far in the future a beat may lie and still vouch for its bot: the skew between two
# NTP-kept hosts (milliseconds), with room to spare. A beat only ever ages on its way to a
# reader, so anything further ahead says the clocks disagree (e.g. a clock stepped back
# after the bot crashed) and its real age is unknown. Small next to HEARTBEAT_MAX_AGE: a
# crashed bot stands at most this much longer by a reader's clock.
HEARTBEAT_CLOCK_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class Transition:
    """One move of the trading state machine, with who made it, why and when."""

    from_state: TradingState
    to_state: TradingState
    reason: str
    timestamp: datetime
    actor: str = "unknown"
    source: str = "unknown"
    unknown: str = ""  # keys NIJA does not know, as the store read them: kept on rewrite


@dataclass(frozen=True, slots=True)
class PendingLive:
    """An outstanding request to go live, waiting for its confirmation.

    ``code_hash`` is the commitment to the one-time code (``live_auth.commitment``): the
    code itself is never stored. ``run_id`` names the running bot the request was made
    for and ``nonce`` this request; both are bound into the confirmation."""

    code_hash: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    run_id: str = ""
    nonce: str = ""
    requested_principal: str = ""
    wrong_codes: int = 0

    @property
    def requester(self) -> str:
        """The principal to compare for the second-person rule (older records: the name)."""
        return self.requested_principal or self.requested_by


@dataclass(frozen=True, slots=True)
class LiveGrant:
    """What a confirmation leaves in a LIVE_ACTIVE record for the running bot to verify:
    its run, the request's nonce and the proof that the confirmer knew the code."""

    run_id: str
    nonce: str
    proof: str
    confirmed_by: str
    confirmed_principal: str
    confirmed_at: datetime


@dataclass(frozen=True, slots=True)
class TradingRecord:
    """The trading state machine's record: the state, its history and any live request or grant."""

    current_state: TradingState = TradingState.OFF
    history: tuple[Transition, ...] = ()
    last_updated: datetime | None = None
    pending_live: PendingLive | None = None
    live_grant: LiveGrant | None = None
    unknown: str = ""  # top-level keys NIJA does not know: kept on rewrite

    def with_transition(self, entry: Transition) -> TradingRecord:
        """Every transition drops the grant: only a confirmation (live.py) sets a new one."""
        history = (*self.history, entry)[-MAX_HISTORY:]
        pending = self.pending_live if entry.to_state is TradingState.LIVE_PENDING_CONFIRMATION else None
        return replace(
            self,
            current_state=entry.to_state,
            history=history,
            last_updated=entry.timestamp,
            pending_live=pending,
            live_grant=None,
        )

    def entered_at(self, state: TradingState) -> datetime | None:
        """When the current stay in ``state`` began, if the history says."""
        if self.current_state is not state or not self.history:
            return None
        last = self.history[-1]
        return last.timestamp if last.to_state is state else None


class KillAction(StrEnum):
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"


@dataclass(frozen=True, slots=True)
class KillEvent:
    """One activation or deactivation in the kill switch's history."""

    action: KillAction | None  # None: a legacy entry (the guide's format has no action)
    reason: str
    timestamp: datetime
    source: str = "unknown"
    actor: str = "unknown"
    # An activation while already active: a note in the history, never the kill's cause.
    repeated: bool = False
    unknown: str = ""  # keys NIJA does not know: kept on rewrite


@dataclass(frozen=True, slots=True)
class KillRecord:
    """The kill switch's record: whether it is active and its history."""

    is_active: bool = False
    history: tuple[KillEvent, ...] = ()
    last_updated: datetime | None = None
    unknown: str = ""  # top-level keys NIJA does not know: kept on rewrite

    def with_event(self, event: KillEvent) -> KillRecord:
        return KillRecord(
            is_active=event.action is KillAction.ACTIVATE,
            history=(*self.history, event)[-MAX_HISTORY:],
            last_updated=event.timestamp,
            unknown=self.unknown,
        )

    @property
    def last_activation(self) -> KillEvent | None:
        """The kill's cause: the activation that began the current (or last) kill.
        Repeated activations are notes; the cause and its "since" stay the first one's."""
        note: KillEvent | None = None
        for position, event in enumerate(reversed(self.history)):
            if event.action is KillAction.ACTIVATE and not event.repeated:
                return event
            if event.action is KillAction.ACTIVATE:
                note = note or event
            elif event.action is None and position == 0 and self.is_active:
                return event
        return note


class KillFlagKind(StrEnum):
    """What the directory entry named EMERGENCY_STOP is (any kind is a kill)."""

    FILE = "regular file"
    DIRECTORY = "directory"
    SYMLINK = "symbolic link"
    DANGLING_SYMLINK = "dangling symbolic link"
    FIFO = "named pipe (FIFO)"
    SOCKET = "socket"
    DEVICE = "device file"
    OTHER = "file of an unknown kind"
    UNKNOWN = "entry that cannot be inspected"
    ROW = "database row"


@dataclass(frozen=True, slots=True)
class KillFlag:
    """A raised kill flag (the kill file, or a database flag row) as a store saw it."""

    identity: str  # changes with any new flag, touch or replacement: part of what the operator saw
    kind: KillFlagKind = KillFlagKind.FILE
    location: str = ""
    raised: KillEvent | None = None  # who raised it, when and why, if the flag says

    @property
    def removable(self) -> bool:
        """Whether a deactivation may remove it (NIJA removes plain files and rows only)."""
        return self.kind in (KillFlagKind.FILE, KillFlagKind.ROW)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A stored record that could not be read: corrupt, truncated or unknown content.

    Treated as EMERGENCY_STOP with the kill switch active (fail closed)."""

    location: str
    detail: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A running bot's beat. ``run_id`` is the secret-random id the run drew at start;
    ``dry_run_s`` how long this run has been running in DRY_RUN (counted by the run
    itself); ``seen_nonce`` the pending live request it has seen (its acknowledgment);
    ``live_nonce`` the confirmation it verified and trades live on; ``live_refused``
    why it refused a LIVE_ACTIVE it could not verify (an incident, until recovered)."""

    pid: int
    host: str
    last_beat: datetime
    started_at: datetime
    stopped: bool = False
    run_id: str = ""
    dry_run_s: float = 0.0
    seen_nonce: str = ""
    live_nonce: str = ""
    live_refused: str = ""

    def is_alive(self, now: datetime, max_age: timedelta) -> bool:
        """Whether the beat vouches for a running bot at ``now``: not stopped, at most
        ``max_age`` old, and not from the future beyond HEARTBEAT_CLOCK_TOLERANCE."""
        return not self.stopped and -HEARTBEAT_CLOCK_TOLERANCE <= now - self.last_beat <= max_age

    def from_the_future(self, now: datetime) -> bool:
        """The beat lies further ahead of ``now`` than clock skew explains: the clocks disagree."""
        return self.last_beat - now > HEARTBEAT_CLOCK_TOLERANCE

    def may_be_running(self, now: datetime, max_age: timedelta) -> bool:
        """For whoever would take the bot's place (a run claim, a live owner): a beat from
        the future may be a running bot on a clock that runs ahead, so it counts."""
        return not self.stopped and now - self.last_beat <= max_age

    def vouches_for(self, now: datetime, max_age: timedelta) -> timedelta:
        """How much longer, after a reading at ``now``, the beat vouches for its bot: never
        more than ``max_age`` whatever the clocks say (the cached views' LIVE ends then)."""
        if not self.is_alive(now, max_age):
            return timedelta(0)
        return min(max_age, self.last_beat + max_age - now)


def future_beat_words(last_beat: datetime, now: datetime) -> str:
    """Why a beat from the future vouches for nothing, in every front end's words."""
    ahead = (last_beat - now).total_seconds()
    return f"its heartbeat is {ahead:.0f} s in the future: this host's clock and the bot's disagree"


def heartbeat_words(last_beat: datetime, now: datetime) -> str:
    """The heartbeat's age as every front end says it: never a negative age."""
    if last_beat - now > HEARTBEAT_CLOCK_TOLERANCE:
        return future_beat_words(last_beat, now)
    return f"last heartbeat {max(0.0, (now - last_beat).total_seconds()):.0f}s ago"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the domain needs to know about one bot's stored safety state."""

    trading: TradingRecord | Unreadable = field(default_factory=TradingRecord)
    kill: KillRecord | Unreadable = field(default_factory=KillRecord)
    kill_flag: bool = False  # the kill file (or fleet flag) exists
    flag: KillFlag | None = None  # the scope's own flag, in detail, when the store knows it
    heartbeat: Heartbeat | None = None
    not_writable: tuple[str, ...] = ()  # locations a write would fail on, with the cause

    @property
    def kill_active(self) -> bool:
        """The kill switch is latched if any sign of it exists, or anything is unreadable."""
        return (
            self.kill_flag
            or isinstance(self.kill, Unreadable)
            or isinstance(self.trading, Unreadable)
            or self.kill.is_active
        )

    @property
    def state(self) -> TradingState:
        """The effective state: anything unreadable reads as EMERGENCY_STOP (fail closed)."""
        if isinstance(self.trading, Unreadable) or isinstance(self.kill, Unreadable):
            return TradingState.EMERGENCY_STOP
        return self.trading.current_state
