"""The one place that loads, applies a domain rule, saves and records.

Every mutating operation runs as: open a store transaction (exclusive across
processes), apply the rule to the snapshot, commit, then tell the listeners. Listener failures are
reported and never undo or delay a safety action."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nija.domain import killswitch, live, moves, recovery
from nija.domain.change import Change
from nija.domain.clock import Clock
from nija.domain.diagnosis import StatusReport, report
from nija.domain.errors import NijaError, SafetyRefusal, StorageProblem, UsageProblem
from nija.domain.events import Event, EventKind
from nija.domain.records import KillEvent, KillRecord, Snapshot, TradingRecord, Transition
from nija.domain.states import TradingState
from nija.domain.text import check_reason, printable
from nija.domain.transitions import Who
from nija.store.ports import PermissionView, Store, Transaction

Listener = Callable[[Event], None]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an operation did, for the CLI, the API and the event stream."""

    before: TradingState
    after: TradingState
    kill_active: bool
    transitions: tuple[Transition, ...] = ()
    messages: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.transitions) or self.before is not self.after


@dataclass(frozen=True, slots=True)
class LiveRequest:
    code: str  # shown once; only its hash is stored
    expires_at: datetime
    outcome: Outcome


@dataclass
class SafetyService:
    store: Store
    clock: Clock = system_clock
    policy: live.LivePolicy = field(default_factory=live.LivePolicy)
    listeners: list[Listener] = field(default_factory=list)
    listener_errors: list[str] = field(default_factory=list)
    # Set when nija.toml is invalid and this service carries on with defaults (diagnosis,
    # recovery): the live flow must then refuse, since its policy may be what was dropped.
    config_problem: str | None = None

    # -- reading -------------------------------------------------------------------
    def status(self, *, history_items: int = 5) -> StatusReport:
        return report(self.store.load(), self.clock(), history_items=history_items)

    def snapshot(self) -> Snapshot:
        return self.store.load()

    def history(self) -> tuple[tuple[Transition, ...], tuple[KillEvent, ...]]:
        snap = self.store.load()
        trading = snap.trading.history if isinstance(snap.trading, TradingRecord) else ()
        kills = snap.kill.history if isinstance(snap.kill, KillRecord) else ()
        return trading, kills

    def permission_view(self) -> PermissionView:
        return self.store.permission_view()

    def plan_restore(self) -> recovery.Plan:
        return recovery.plan_restore(self.store.load())

    def plan_reset(self) -> recovery.Plan:
        return recovery.plan_reset(self.store.load())

    # -- kill switch ---------------------------------------------------------------
    def activate_kill(self, reason: str, who: Who) -> Outcome:
        """Raise the kill file first, so every reader sees the kill even if the lock is held."""
        self._check_reason(reason, "kill switch reason", activating=True)
        who = _plain(who)
        now = self.clock()
        reason = reason.strip() or killswitch.DEFAULT_ACTIVATION_REASON
        self.store.raise_kill_flag(reason, who, now)
        try:
            with self._changing() as (tx, events):
                change = killswitch.activate(tx.snapshot, reason, who, self.clock())
                outcome = self._commit(tx, change, events)
        except StorageProblem as exc:
            raise type(exc)(
                f"The kill switch IS ACTIVE (its flag is raised in {self.store.location}: every "
                f"order is refused), but recording it failed: {exc.message}",
                exc.fix,
                code=exc.code,
            ) from exc
        self.publish(Event(EventKind.KILL_ACTIVATED, who.actor, who.source, reason, now))
        return outcome

    def adopt_kill_flag(self, who: Who) -> Outcome | None:
        """Record a kill raised only by the kill file (``touch EMERGENCY_STOP``), so that
        deleting the file afterwards deactivates nothing. Returns None if nothing to adopt."""
        snap = self.store.load()
        if not snap.kill_flag or (isinstance(snap.kill, KillRecord) and snap.kill.is_active):
            return None
        return self.activate_kill("Kill file EMERGENCY_STOP found", who)

    def kill_seen(self) -> str:
        """What the operator is looking at, to pass back as ``deactivate_kill(expected=...)``."""
        return killswitch.seen(self.store.load())

    def deactivate_kill(self, reason: str, who: Who, *, expected: str | None = None) -> Outcome:
        """``expected`` (from ``kill_seen``) refuses if another kill arrived since the operator looked."""
        self._check_reason(reason, "deactivation reason")
        who = _plain(who)
        with self._changing() as (tx, events):
            if expected is not None and killswitch.seen(tx.snapshot) != expected:
                raise SafetyRefusal(
                    "The kill switch changed since you looked (a new kill was raised); nothing was done",
                    "Check the kill switch history, then deactivate again if it is still right",
                    code="STATE_CHANGED",
                )
            change = killswitch.deactivate(tx.snapshot, reason, who, self.clock())
            outcome = self._commit(tx, change, events)
        if not change.is_empty:
            self.publish(Event(EventKind.KILL_DEACTIVATED, who.actor, who.source, reason.strip(), self.clock()))
        return outcome

    # -- recovery ------------------------------------------------------------------
    def restore(self, who: Who, *, expected: recovery.Plan | None = None) -> Outcome:
        return self._run_plan(recovery.plan_restore, who, expected, EventKind.RESTORE)

    def reset(self, who: Who, *, expected: recovery.Plan | None = None) -> Outcome:
        return self._run_plan(recovery.plan_reset, who, expected, EventKind.RESET)

    def move(self, target: TradingState, reason: str, who: Who) -> Outcome:
        """A transition named by its target, OFF or DRY_RUN only (``domain.moves``), for
        front ends that say "go to X" (nija.compat); the caller's reason is recorded."""
        with self._changing() as (tx, events):
            change = moves.move(tx.snapshot, target, reason, who, self.clock())
            return self._commit(tx, change, events)

    def _run_plan(
        self,
        planner: Callable[[Snapshot], recovery.Plan],
        who: Who,
        expected: recovery.Plan | None,
        kind: EventKind,
    ) -> Outcome:
        who = _plain(who)
        with self._changing() as (tx, events):
            plan = planner(tx.snapshot)
            if expected is not None and plan.steps != expected.steps:
                raise SafetyRefusal(
                    f"The state changed while the plan was shown (now {tx.snapshot.state}); nothing was done",
                    "Run the command again to see the new plan",
                    code="STATE_CHANGED",
                )
            if plan.nothing_to_do:
                return self._outcome(tx.snapshot, tx.snapshot, (f"Already {tx.snapshot.state}: nothing to do",))
            record = tx.snapshot.trading
            assert isinstance(record, TradingRecord)  # planners refuse unreadable records
            updated = recovery.apply_plan(record, plan, who, self.clock())
            outcome = self._commit(tx, Change(trading=updated), events, warnings=plan.warnings)
        self.publish(Event(kind, who.actor, who.source, plan.path, self.clock(), {"path": plan.path}))
        return outcome

    def on_bot_start(self, who: Who) -> Outcome:
        """The restart rule: a restart never resumes live trading."""
        with self._changing() as (tx, events):
            snap = tx.snapshot
            if not isinstance(snap.trading, TradingRecord) or not snap.state.is_live:
                return self._outcome(snap, snap, ())
            reason = f"Bot restart: a restart never resumes live trading (was {snap.state})"
            updated = snap.trading.with_transition(
                Transition(snap.state, TradingState.OFF, reason, self.clock(), who.actor, who.source)
            )
            outcome = self._commit(tx, Change(trading=updated), events)
        self.publish(Event(EventKind.BOT_STARTED, who.actor, who.source, reason, self.clock()))
        return outcome

    # -- live trading --------------------------------------------------------------
    def request_live(self, who: Who, *, credentials_configured: bool) -> LiveRequest:
        code = secrets.token_hex(4).upper()
        with self._changing() as (tx, events):
            snap = tx.snapshot
            inconsistencies = report(snap, self.clock(), history_items=0).inconsistencies
            codes = tuple(i.code for i in inconsistencies if i.code != "FILE_NOT_WRITABLE")
            record = live.request_live(
                snap,
                self._live_policy(),
                who,
                self.clock(),
                code_hash=hash_code(code),
                credentials_configured=credentials_configured,
                inconsistency_codes=codes,
            )
            outcome = self._commit(tx, Change(trading=record), events)
        pending = record.pending_live
        assert pending is not None
        self.publish(
            Event(
                EventKind.LIVE_REQUESTED,
                who.actor,
                who.source,
                "live requested",
                self.clock(),
                {"expires_at": pending.expires_at.isoformat()},
            )
        )
        return LiveRequest(code, pending.expires_at, outcome)

    def confirm_live(self, code: str, phrase: str, who: Who) -> Outcome:
        with self._changing() as (tx, events):
            expired = self._expire(tx, who, events)
            if expired is not None:
                refusal = SafetyRefusal(
                    "The live request has expired and cannot be confirmed; the bot is back in DRY_RUN",
                    "Request live trading again",
                    code="PENDING_CONFIRMATION_EXPIRED",
                )
            else:
                record = live.confirm_live(
                    tx.snapshot, self._live_policy(), who, self.clock(), code_hash=hash_code(code), phrase=phrase
                )
                outcome = self._commit(tx, Change(trading=record), events)
        if expired is not None:
            raise refusal
        self.publish(Event(EventKind.LIVE_CONFIRMED, who.actor, who.source, phrase, self.clock()))
        return outcome

    def _live_policy(self) -> live.LivePolicy:
        if self.config_problem is not None:
            raise UsageProblem(
                f"Live trading cannot be requested or confirmed while nija.toml is invalid: {self.config_problem}",
                "Fix nija.toml (its [live] settings decide who may go live), then try again",
            )
        return self.policy

    def cancel_live(self, who: Who, reason: str = "") -> Outcome:
        self._check_reason(reason, "cancellation reason")
        who = _plain(who)
        with self._changing() as (tx, events):
            record = live.cancel_live(tx.snapshot, who, self.clock(), reason)
            if record is None:
                kill = "; the kill switch is active" if tx.snapshot.kill_active else ""
                nothing = f"No live request is pending (state {tx.snapshot.state}{kill}): nothing to cancel"
                return self._commit(tx, Change(messages=(nothing,)), events)
            outcome = self._commit(tx, Change(trading=record), events)
        self.publish(Event(EventKind.LIVE_CANCELLED, who.actor, who.source, reason or "cancelled", self.clock()))
        return outcome

    def expire_live_request(self, who: Who) -> Outcome | None:
        with self._changing() as (tx, events):
            return self._expire(tx, who, events)

    def _expire(self, tx: Transaction, who: Who, events: list[Event]) -> Outcome | None:
        record = tx.snapshot.trading
        if not isinstance(record, TradingRecord) or tx.snapshot.kill_active:
            return None  # while killed nothing but EMERGENCY_STOP may be entered
        expired = live.expire_pending(record, who, self.clock())
        if expired is None:
            return None
        outcome = self._commit(tx, Change(trading=expired), events)
        events.append(Event(EventKind.LIVE_EXPIRED, who.actor, who.source, "confirmation window expired", self.clock()))
        return outcome

    # -- plumbing ------------------------------------------------------------------
    def _check_reason(self, reason: str, what: str, *, activating: bool = False) -> None:
        """Refuse free text that could repaint a terminal (invariant 12), for every front end."""
        try:
            check_reason(reason, what)
        except NijaError as exc:
            if activating:
                exc.message += f". This request did NOT activate the kill switch; {self._kill_in_force()}"
            raise

    def _kill_in_force(self) -> str:
        try:
            active = self.store.load().kill_active
        except NijaError as exc:
            return f"whether a kill is in force could not be read ({exc.message})"
        return "a kill IS in force (raised earlier)" if active else "no kill is in force"

    @contextmanager
    def _changing(self) -> Iterator[tuple[Transaction, list[Event]]]:
        """A store transaction whose events reach the listeners only once it has committed
        and released its lock: no audit entry for a change that never happened, and no
        listener I/O while other processes wait for the lock."""
        events: list[Event] = []
        with self.store.transaction() as tx:
            yield tx, events
        for event in events:
            self.publish(event)

    def _commit(
        self, tx: Transaction, change: Change, events: list[Event], *, warnings: tuple[str, ...] = ()
    ) -> Outcome:
        before = tx.snapshot
        if not change.is_empty:
            tx.commit(change)
        after = Snapshot(
            trading=change.trading if change.trading is not None else before.trading,
            kill=change.kill if change.kill is not None else before.kill,
            kill_flag=False if change.clear_kill_flag else before.kill_flag,
        )
        outcome = self._outcome(before, after, change.messages, warnings)
        for transition in outcome.transitions:
            events.append(
                Event(
                    EventKind.TRANSITION,
                    transition.actor,
                    transition.source,
                    transition.reason,
                    transition.timestamp,
                    {"from": transition.from_state, "to": transition.to_state},
                )
            )
        return outcome

    def _outcome(
        self, before: Snapshot, after: Snapshot, messages: tuple[str, ...], warnings: tuple[str, ...] = ()
    ) -> Outcome:
        new: tuple[Transition, ...] = ()
        if isinstance(after.trading, TradingRecord) and after.trading is not before.trading:
            new = _new_entries(before.trading, after.trading)
        return Outcome(before.state, after.state, after.kill_active, new, messages, warnings)

    def publish(self, event: Event) -> None:
        """Tell every listener (audit, notifications, metrics, event stream) about an event."""
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as exc:  # noqa: BLE001 - a listener never blocks a safety action
                self.listener_errors.append(f"{getattr(listener, '__name__', listener)}: {exc}")


def _plain(who: Who) -> Who:
    """Actors come from token and bot names, refused at creation when unsafe, and from the
    OS account; whatever slipped through is stored escaped: a kill never waits on a name."""
    actor = printable(who.actor)
    return who if actor == who.actor else Who(actor, who.source)


def _new_entries(before: object, after: TradingRecord) -> tuple[Transition, ...]:
    if not isinstance(before, TradingRecord):
        return after.history
    known = set(map(id, before.history))
    return tuple(t for t in after.history if id(t) not in known)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


__all__ = ["LiveRequest", "NijaError", "Outcome", "SafetyService", "hash_code", "system_clock"]
