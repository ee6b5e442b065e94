"""The one place that loads, applies a domain rule, saves and records.

Every mutating operation runs as: open a store transaction (exclusive across
processes), apply the rule to the snapshot, commit, write the audit records (still under the
lock, when the store's history lives beside the audit trail: see ``nija.audit.reconcile``),
release, then tell the listeners. Listener failures are reported and never undo or delay a
safety action."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from nija.domain import killswitch, live, live_auth, moves
from nija.domain.change import Change
from nija.domain.clock import Clock
from nija.domain.codes import ErrorCode
from nija.domain.diagnosis import StatusReport, report
from nija.domain.errors import (
    CredentialsUnreadable,
    KillFileNotWritten,
    KillNotOnDisk,
    KillNotRecorded,
    LiveRequestRefused,
    LockTimeout,
    NijaError,
    SafetyRefusal,
    StateChanged,
    StorageProblem,
    UsageProblem,
)
from nija.domain.events import Event, EventKind
from nija.domain.records import KillEvent, KillRecord, Snapshot, TradingRecord, Transition
from nija.domain.states import TradingState
from nija.domain.text import check_reason, printable
from nija.domain.transitions import Who
from nija.store.ports import PermissionView, Store, Transaction

if TYPE_CHECKING:
    from nija.domain import recovery  # loaded by the recovery commands only: status needs none of it

Listener = Callable[[Event], None]
# Tells every running bot of the store to stop trading, with no disk write; returns the
# pids that acknowledged. Used when the kill cannot be written (read-only or full disk).
BotMessenger = Callable[[str, Who, datetime], tuple[int, ...]]


class Recorder(Protocol):
    """The audit trail, when it can be kept complete: records a transaction's events while
    its lock is held, after any committed change it finds without a record."""

    def __call__(self, event: Event) -> None: ...

    def record(self, snapshot: Snapshot, events: Sequence[Event]) -> object: ...


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
    code: str  # shown once; only a commitment to it is stored
    expires_at: datetime
    outcome: Outcome
    run: str = ""  # the bot run it was made for (a prefix of its id)


@dataclass
class SafetyService:
    store: Store
    clock: Clock = system_clock
    policy: live.LivePolicy = field(default_factory=live.LivePolicy)
    listeners: list[Listener] = field(default_factory=list)
    listener_errors: list[str] = field(default_factory=list)
    # Exchange-side preconditions of a live request (nija.exchange_checks): each raises
    # LiveRequestRefused with the figures, or returns warnings for the operator.
    live_request_checks: list[Callable[[], tuple[str, ...]]] = field(default_factory=list)
    messenger: BotMessenger | None = None
    recorder: Recorder | None = None  # else the audit trail, if any, is one of the listeners
    # Set when nija.toml is invalid and this service carries on with defaults (diagnosis,
    # recovery): the live flow must then refuse, since its policy may be what was dropped.
    config_problem: str | None = None
    # Whether exchange credentials are configured (assembly injects nija.credentials); it
    # raises UsageProblem when they are there but unusable. None: no credentials at all.
    credentials: Callable[[], bool] | None = None

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
        from nija.domain import recovery

        return recovery.plan_restore(self.store.load())

    def plan_reset(self) -> recovery.Plan:
        from nija.domain import recovery

        return recovery.plan_reset(self.store.load())

    # -- kill switch ---------------------------------------------------------------
    def activate_kill(
        self,
        reason: str,
        who: Who,
        *,
        reach_bots: bool = True,
        now: datetime | None = None,
        raised: bool = False,
        raise_problem: StorageProblem | None = None,
    ) -> Outcome:
        """Raise the kill file first, so every reader sees the kill even if the lock is held.
        If it cannot be raised, tell the running bots directly (``messenger``), then record
        what can be recorded, and say exactly where the kill is in force. ``raised``: the
        emergency path raised the flag already (``nija.emergency``), at ``now``, so that the
        record is the same activation; ``raise_problem``: what that raise could not write."""
        self._check_reason(reason, "kill switch reason", activating=True)
        who = _plain(who)
        now = now if now is not None else self.clock()
        reason = reason.strip() or killswitch.DEFAULT_ACTIVATION_REASON
        flag_problem: StorageProblem | None = raise_problem
        if not raised:
            try:
                self.store.raise_kill_flag(reason, who, now)
            except StorageProblem as exc:
                flag_problem = exc
        stopped: tuple[int, ...] = ()
        if flag_problem is not None and reach_bots and self.messenger is not None:
            stopped = self.messenger(reason, who, now)
        try:
            with self._changing() as (tx, events):
                change = killswitch.activate(tx.snapshot, reason, who, now)
                outcome = self._commit(tx, change, events)
        except StorageProblem as exc:
            raise self._kill_not_recorded(exc, flag_problem, stopped) from exc
        if flag_problem is not None:
            outcome = replace(outcome, warnings=(*outcome.warnings, _flag_warning(flag_problem, stopped)))
        # No publish here: every new kill-history entry is audited and announced by _commit.
        return outcome

    def _kill_not_recorded(
        self, exc: StorageProblem, flag_problem: StorageProblem | None, stopped: tuple[int, ...]
    ) -> StorageProblem:
        """The truth about a kill whose record could not be written: is it in force, where?"""
        where = self.store.location
        if flag_problem is None:
            return KillNotRecorded(
                f"The kill switch IS ACTIVE (its flag is raised in {where}: every order is refused), "
                f"but recording it failed: {exc.message}",
                exc.fix,
            )
        told = f"Trading is stopped in pid {', '.join(map(str, stopped))}. " if stopped else ""
        if (isinstance(flag_problem, KillFileNotWritten) and flag_problem.in_force) or self._kill_on_disk():
            # A bot told directly may have recorded the kill meanwhile from its own access.
            detail = flag_problem.message if isinstance(flag_problem, KillFileNotWritten) else ""
            return KillNotRecorded(
                f"{told}The kill switch IS ACTIVE in {where} (every order is refused), but this command could "
                f"not fully record it.{f' {detail}.' if detail else ''} Recording failed: {exc.message}",
                exc.fix,
            )
        fix = (
            f"Make {where} writable (df -h for space; mount for a read-only file system; ls -la for "
            "permissions), then run the activation again so that the kill is recorded"
        )
        if stopped:
            pids = ", ".join(map(str, stopped))
            return KillNotOnDisk(
                f"Trading is stopped in pid {pids}, but the kill could not be written to disk: "
                f"{flag_problem.message}; recording it failed too: {exc.message}. The kill is in force only "
                f"in the memory of pid {pids}: a bot started or restarted now would trade",
                f"{fix}; do not restart the bot before that",
                code=ErrorCode.KILL_IN_MEMORY_ONLY,
                stopped_pids=stopped,
            )
        return KillNotOnDisk(
            f"THE KILL IS NOT IN FORCE: it could not be written to disk ({flag_problem.message}; recording "
            f"failed too: {exc.message}) and no running bot of {where} could be told directly",
            f"Stop the bot process yourself now (the pid is in .nija_heartbeat.json; kill PID), then: {fix}",
            code=ErrorCode.KILL_NOT_IN_FORCE,
        )

    def _kill_on_disk(self) -> bool:
        try:
            return self.store.load().kill_active
        except NijaError:
            return False

    def adopt_kill_flag(self, who: Who, *, timeout_s: float | None = None) -> Outcome | None:
        """Record a kill raised only by the kill file (``touch EMERGENCY_STOP``), so that
        deleting the file afterwards deactivates nothing. Returns None if nothing to adopt.
        Cheap when there is nothing to adopt: a read, no lock."""
        snap = self.store.load()
        now = self.clock()  # one clock read per operation (the check and the record agree)
        if killswitch.adopt(snap, who, now).is_empty:
            return None
        with self._changing(timeout_s=timeout_s) as (tx, events):
            change = killswitch.adopt(tx.snapshot, who, now)
            if change.is_empty:
                return None
            # Its kill-history entry is audited and announced by _commit, like every change.
            return self._commit(tx, change, events)

    def adopt_quietly(self, who: Who) -> str | None:
        """Adopt for a command that only looks (status): never waits long, never fails.
        Returns why the kill could not be recorded now, if so (it is reported, still in force)."""
        try:
            self.adopt_kill_flag(who, timeout_s=0.5)
        except LockTimeout:
            return "another NIJA process holds the lock; the next command records the kill file"
        except NijaError as exc:
            return exc.message
        return None

    def kill_seen(self) -> str:
        """What the operator is looking at, to pass back as ``deactivate_kill(expected=...)``."""
        return killswitch.seen(self.store.load())

    def deactivate_kill(self, reason: str, who: Who, *, expected: str | None = None) -> Outcome:
        """``expected`` (from ``kill_seen``) refuses if another kill arrived since the operator looked."""
        self._check_reason(reason, "deactivation reason")
        who = _plain(who)
        with self._changing() as (tx, events):
            if expected is not None and killswitch.seen(tx.snapshot) != expected:
                raise StateChanged(
                    "The kill switch changed since you looked (a new kill was raised); nothing was done",
                    "Check the kill switch history, then deactivate again if it is still right",
                )
            change = killswitch.deactivate(tx.snapshot, reason, who, self.clock())
            return self._commit(tx, change, events)

    # -- recovery ------------------------------------------------------------------
    def restore(self, who: Who, *, expected: recovery.Plan | str | None = None) -> Outcome:
        from nija.domain import recovery

        return self._run_plan(recovery.plan_restore, who, expected, EventKind.RESTORE)

    def reset(self, who: Who, *, expected: recovery.Plan | str | None = None) -> Outcome:
        from nija.domain import recovery

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
        expected: recovery.Plan | str | None,
        kind: EventKind,
    ) -> Outcome:
        """``expected``: the plan a person reviewed, or its path (the staleness token every
        front end passes); a different plan now is refused. None (``--yes``: nobody reviewed
        one) plans under the lock and applies that."""
        from nija.domain import recovery

        who = _plain(who)
        token = expected.path if isinstance(expected, recovery.Plan) else expected
        with self._changing() as (tx, events):
            plan = planner(tx.snapshot)
            if token is not None and plan.path != token:
                raise StateChanged(
                    f"The state changed while the plan was shown (now {tx.snapshot.state}); nothing was done",
                    "Run the command again to see the new plan",
                )
            if plan.nothing_to_do:
                return self._outcome(tx.snapshot, tx.snapshot, (f"Already {tx.snapshot.state}: nothing to do",))
            record = tx.snapshot.trading
            assert isinstance(record, TradingRecord)  # planners refuse unreadable records
            now = self.clock()
            updated = recovery.apply_plan(record, plan, who, now)
            outcome = self._commit(tx, Change(trading=updated), events, warnings=plan.warnings)
        self.publish(Event(kind, who.actor, who.source, plan.path, now, {"path": plan.path}))
        return outcome

    def on_bot_start(self, who: Who) -> Outcome:
        """The restart rule: a restart never resumes live trading."""
        with self._changing() as (tx, events):
            snap = tx.snapshot
            if not isinstance(snap.trading, TradingRecord) or not snap.state.is_live:
                return self._outcome(snap, snap, ())
            reason = f"Bot restart: a restart never resumes live trading (was {snap.state})"
            now = self.clock()
            updated = snap.trading.with_transition(
                Transition(snap.state, TradingState.OFF, reason, now, who.actor, who.source)
            )
            outcome = self._commit(tx, Change(trading=updated), events)
        self.publish(Event(EventKind.BOT_STARTED, who.actor, who.source, reason, now))
        return outcome

    # -- live trading --------------------------------------------------------------
    def credentials_configured(self) -> bool:
        """Raises CredentialsUnreadable (a refusal, for every front end) when they are unusable."""
        if self.credentials is None:
            return False
        try:
            return self.credentials()
        except UsageProblem as exc:
            raise CredentialsUnreadable(exc.message, exc.fix) from exc

    def request_live(self, who: Who, *, credentials_configured: bool | None = None) -> LiveRequest:
        """Granted to the bot running in DRY_RUN: the request names its run and a fresh nonce.
        ``credentials_configured``: for tests; the injected ``credentials`` decide otherwise."""
        if credentials_configured is None:
            credentials_configured = self.credentials_configured()
        code = new_code()
        import secrets

        nonce = secrets.token_hex(16)
        now = self.clock()
        exchange_warnings: tuple[str, ...] = ()
        if self.live_request_checks:
            # The exchange's side (what the running bot read) only once the bot itself may
            # go: the first refusal an operator sees is the most basic one. Outside the
            # transaction (the checks read the store); the transaction decides again.
            self._request(self.snapshot(), who, code, nonce, credentials_configured, now)
            exchange_warnings = tuple(w for check in self.live_request_checks for w in check())  # may refuse
        with self._changing() as (tx, events):
            record = self._request(tx.snapshot, who, code, nonce, credentials_configured, now)
            outcome = self._commit(tx, Change(trading=record), events)
        pending = record.pending_live
        assert pending is not None
        self.publish(
            Event(
                EventKind.LIVE_REQUESTED,
                who.actor,
                who.source,
                "live requested",
                now,
                {"expires_at": pending.expires_at.isoformat(), "run": live.short_run(pending.run_id)},
            )
        )
        if exchange_warnings:
            outcome = replace(outcome, warnings=outcome.warnings + exchange_warnings)
        return LiveRequest(code, pending.expires_at, outcome, live.short_run(pending.run_id))

    def _request(
        self, snap: Snapshot, who: Who, code: str, nonce: str, credentials_configured: bool, now: datetime
    ) -> TradingRecord:
        """The domain's live request on ``snap`` (pure: raises its refusal, writes nothing)."""
        inconsistencies = report(snap, now, history_items=0).inconsistencies
        return live.request_live(
            snap,
            self._live_policy(),
            who,
            now,
            code_hash=live_auth.commitment(live_auth.proof(nonce, code)),
            nonce=nonce,
            credentials_configured=credentials_configured,
            inconsistency_codes=tuple(i.code for i in inconsistencies if i.code != "FILE_NOT_WRITABLE"),
        )

    def confirm_live(self, code: str, phrase: str, who: Who) -> Outcome:
        """A wrong code is counted on the request (recorded, then refused); the
        ``MAX_WRONG_CODES``-th cancels the request. Every refusal leaves the transaction
        first, so what was counted is committed on every store."""
        refusal: NijaError | None = None
        now = self.clock()
        with self._changing() as (tx, events):
            expired = self._expire(tx, who, events, now)
            if expired is not None:
                refusal = SafetyRefusal(
                    "The live request has expired and cannot be confirmed; the bot is back in DRY_RUN",
                    "Request live trading again",
                    code=live.LiveCode.PENDING_CONFIRMATION_EXPIRED,
                )
            else:
                try:
                    record = live.confirm_live(tx.snapshot, self._live_policy(), who, now, code=code, phrase=phrase)
                except LiveRequestRefused as exc:
                    if exc.code != str(live.LiveCode.WRONG_CODE):  # an area code on a shared class
                        raise
                    refusal = self._count_wrong_code(tx, who, events, now)
                else:
                    outcome = self._commit(tx, Change(trading=record), events)
        if refusal is not None:
            raise refusal
        self.publish(Event(EventKind.LIVE_CONFIRMED, who.actor, who.source, phrase, now))
        return outcome

    def _count_wrong_code(self, tx: Transaction, who: Who, events: list[Event], now: datetime) -> LiveRequestRefused:
        record = tx.snapshot.trading
        assert isinstance(record, TradingRecord)
        updated, count, cancelled = live.count_wrong_code(record, who, now)
        self._commit(tx, Change(trading=updated), events)
        limit = live_auth.MAX_WRONG_CODES
        events.append(
            Event(
                EventKind.LIVE_WRONG_CODE,
                who.actor,
                who.source,
                f"wrong confirmation code {count} of {limit}",
                now,
                {"count": str(count), "limit": str(limit)},
            )
        )
        if cancelled:
            events.append(
                Event(
                    EventKind.LIVE_CANCELLED,
                    who.actor,
                    who.source,
                    f"cancelled after {count} wrong confirmation codes",
                    now,
                )
            )
            return LiveRequestRefused(
                f"Wrong confirmation code ({count} of {limit}): the live request is cancelled and the bot "
                "is back in DRY_RUN",
                "Find out who tried the wrong codes; request live trading again if it is still intended",
                code=live.LiveCode.TOO_MANY_WRONG_CODES,
            )
        return LiveRequestRefused(
            f"Wrong confirmation code ({count} of {limit}; the request is cancelled after {limit})",
            "Use the code returned by the live request",
            code=live.LiveCode.WRONG_CODE,
        )

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
        now = self.clock()
        with self._changing() as (tx, events):
            record = live.cancel_live(tx.snapshot, who, now, reason)
            if record is None:
                kill = "; the kill switch is active" if tx.snapshot.kill_active else ""
                nothing = f"No live request is pending (state {tx.snapshot.state}{kill}): nothing to cancel"
                return self._commit(tx, Change(messages=(nothing,)), events)
            outcome = self._commit(tx, Change(trading=record), events)
        self.publish(Event(EventKind.LIVE_CANCELLED, who.actor, who.source, reason or "cancelled", now))
        return outcome

    def expire_live_request(self, who: Who) -> Outcome | None:
        now = self.clock()
        with self._changing() as (tx, events):
            return self._expire(tx, who, events, now)

    def _expire(self, tx: Transaction, who: Who, events: list[Event], now: datetime) -> Outcome | None:
        record = tx.snapshot.trading
        if not isinstance(record, TradingRecord) or tx.snapshot.kill_active:
            return None  # while killed nothing but EMERGENCY_STOP may be entered
        expired = live.expire_pending(record, who, now)
        if expired is None:
            return None
        outcome = self._commit(tx, Change(trading=expired), events)
        events.append(Event(EventKind.LIVE_EXPIRED, who.actor, who.source, "confirmation window expired", now))
        return outcome

    def reconcile_audit(self) -> None:
        """Append the audit records of committed changes that have none (a process killed
        between its commit and its audit), marked as recovered. Every transaction does this
        too; this runs one that changes nothing."""
        with self._changing():
            pass

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
    def _changing(self, *, timeout_s: float | None = None) -> Iterator[tuple[Transaction, list[Event]]]:
        """A store transaction whose events are audited before its lock is released (so the
        next lock holder can tell a change in flight from one whose process died) and reach
        the other listeners only afterwards: no listener I/O while other processes wait."""
        events = _Events()
        with self.store.transaction(timeout_s=timeout_s) as tx:
            try:
                yield tx, events
            except BaseException:
                if events:  # committed before the failure: the change happened, so record it
                    self._record(events.after or tx.snapshot, events)
                raise
            self._record(events.after or tx.snapshot, events)
        for event in events:
            self._notify(event)

    def _record(self, snapshot: Snapshot, events: list[Event]) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.record(snapshot, events)
        except Exception as exc:  # noqa: BLE001 - the audit never blocks a safety action
            self.listener_errors.append(f"{getattr(self.recorder, '__name__', 'audit')}: {exc}")

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
        if isinstance(events, _Events) and not change.is_empty:
            events.after = after
        # One record per history entry, with the entry's own time: the audit can be checked
        # against the histories (nija.audit.changes).
        from nija.audit.changes import kill_event, transition_event  # only when something changed

        events.extend(transition_event(t) for t in outcome.transitions)
        if isinstance(after.kill, KillRecord) and after.kill is not before.kill:
            events.extend(kill_event(k) for k in _new_kill_entries(before.kill, after.kill))
        return outcome

    def _outcome(
        self, before: Snapshot, after: Snapshot, messages: tuple[str, ...], warnings: tuple[str, ...] = ()
    ) -> Outcome:
        new: tuple[Transition, ...] = ()
        if isinstance(after.trading, TradingRecord) and after.trading is not before.trading:
            new = _new_entries(before.trading, after.trading)
        return Outcome(before.state, after.state, after.kill_active, new, messages, warnings)

    def publish(self, event: Event) -> None:
        """Tell the audit trail and every listener (notifications, metrics, event stream) about
        an event that is not part of a store transaction."""
        if self.recorder is not None:
            self._deliver(self.recorder, event)
        self._notify(event)

    def _notify(self, event: Event) -> None:
        for listener in self.listeners:
            self._deliver(listener, event)

    def _deliver(self, listener: Listener, event: Event) -> None:
        try:
            listener(event)
        except Exception as exc:  # noqa: BLE001 - a listener never blocks a safety action
            self.listener_errors.append(f"{getattr(listener, '__name__', listener)}: {exc}")


class _Events(list[Event]):
    """A transaction's events, and the records as its last commit left them."""

    after: Snapshot | None = None


def _flag_warning(problem: StorageProblem, stopped: tuple[int, ...]) -> str:
    told = f"; pid {', '.join(map(str, stopped))} was also told directly and stopped trading" if stopped else ""
    return (
        f"The kill file could not be written ({problem.message}); the kill IS IN FORCE through the kill "
        f"switch record{told}"
    )


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


def _new_kill_entries(before: object, after: KillRecord) -> tuple[KillEvent, ...]:
    if not isinstance(before, KillRecord):
        return after.history
    known = set(map(id, before.history))
    return tuple(k for k in after.history if id(k) not in known)


def new_code() -> str:
    """80 random bits, shown as four groups of four base32 characters."""
    import base64
    import secrets  # only for a live request

    text = base64.b32encode(secrets.token_bytes(live_auth.CODE_BYTES)).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


__all__ = ["LiveRequest", "NijaError", "Outcome", "SafetyService", "new_code", "system_clock"]
