"""The one place that loads, applies a domain rule, saves and records.

Every mutating operation runs as: open a store transaction (exclusive across
processes), apply the rule to the snapshot, commit, write the audit records (still under the
lock, when the store's history lives beside the audit trail: see ``nija.audit.reconcile``),
release, then tell the listeners (``nija.service_changes``). Listener failures are reported
and never undo or delay a safety action. The live flow is ``nija.live_flow``; what a kill
that could not be fully written means is ``nija.kill_truth``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

# kill_truth at the top, never where a kill fails: the failure may be the very one (no file
# descriptor left) that would stop a late import, and the truth of the kill with it.
from nija import kill_truth
from nija.domain import killswitch
from nija.domain.change import Change
from nija.domain.clock import Clock
from nija.domain.diagnosis import StatusReport, report
from nija.domain.errors import LockTimeout, NijaError, StateChanged, StorageProblem
from nija.domain.records import KillEvent, KillRecord, Snapshot, TradingRecord, Transition
from nija.domain.states import TradingState
from nija.domain.text import check_reason, printable
from nija.domain.transitions import Who
from nija.service_changes import Listener, Outcome, Recorder, ServiceChanges, outcome_of
from nija.store.ports import PermissionView, Store

if TYPE_CHECKING:
    # Loaded where used: a status (the commonest command) changes nothing, publishes nothing
    # and goes nowhere near live, and each module costs every start.
    from nija.domain import recovery  # loaded by the recovery commands only: status needs none of it
    from nija.domain.events import Event, EventKind
    from nija.domain.live import LivePolicy
    from nija.live_flow import LiveCheck, LiveFlow, LiveRequest  # loaded at the first live operation

# Tells every running bot of the store to stop trading, with no disk write; returns the
# pids that acknowledged. Used when the kill cannot be written (read-only or full disk).
BotMessenger = Callable[[str, Who, datetime], tuple[int, ...]]


def system_clock() -> datetime:
    return datetime.now(UTC)


class SafetyService:
    """Everything is given at construction and read-only afterwards (the collaborators hold
    the same values: a reassigned clock or policy would split them), except two lists that
    are meant to grow: ``listeners`` (append one to be told of every event) and
    ``live_request_checks`` (exchange-side preconditions of a live request, from
    ``nija.exchange_checks``: each raises LiveRequestRefused with the figures, or returns
    warnings for the operator).

    ``recorder``: the audit trail when it can be kept complete (audited under the store's
    lock); else the audit trail, if any, is one of the listeners. ``config_problem``: set
    when nija.toml is invalid and this service carries on with defaults (diagnosis,
    recovery): the live flow then refuses, since its policy may be what was dropped.
    ``credentials``: whether exchange credentials are configured (assembly injects
    nija.credentials); it raises UsageProblem when they are there but unusable; None: no
    credentials at all."""

    def __init__(
        self,
        store: Store,
        clock: Clock = system_clock,
        policy: LivePolicy | None = None,
        listeners: list[Listener] | None = None,
        listener_errors: list[str] | None = None,
        live_request_checks: list[LiveCheck] | None = None,
        messenger: BotMessenger | None = None,
        recorder: Recorder | None = None,
        config_problem: str | None = None,
        credentials: Callable[[], bool] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._messenger = messenger
        self._changes = ServiceChanges(
            store,
            listeners=listeners if listeners is not None else [],
            errors=listener_errors if listener_errors is not None else [],
            recorder=recorder,
        )
        self._policy = policy  # None: the domain's defaults, made at the first use
        self._live_checks = live_request_checks if live_request_checks is not None else []
        self._config_problem = config_problem
        self._credentials = credentials
        self._live: LiveFlow | None = None  # built, from the values above, at the first live operation
        self._building = threading.Lock()  # one live flow (and one default policy) per service

    # -- what it was given (read-only) -----------------------------------------------
    @property
    def store(self) -> Store:
        return self._store

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def policy(self) -> LivePolicy:
        if self._policy is None:
            from nija.domain.live import LivePolicy

            with self._building:
                if self._policy is None:
                    self._policy = LivePolicy()
        return self._policy

    @property
    def listeners(self) -> list[Listener]:
        """The listeners every change and published event reaches; append to add one."""
        return self._changes.listeners

    @property
    def listener_errors(self) -> list[str]:
        """What the audit trail or a listener failed at (reported; never undoes a change)."""
        return self._changes.errors

    @property
    def live_request_checks(self) -> list[LiveCheck]:
        return self._live_checks

    @property
    def messenger(self) -> BotMessenger | None:
        return self._messenger

    @property
    def recorder(self) -> Recorder | None:
        return self._changes.recorder

    @property
    def config_problem(self) -> str | None:
        return self._config_problem

    @property
    def credentials(self) -> Callable[[], bool] | None:
        return self._credentials

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
            with self._changes.changing() as (tx, events):
                change = killswitch.activate(tx.snapshot, reason, who, now)
                outcome = self._changes.commit(tx, change, events)
        except StorageProblem as exc:
            raise kill_truth.not_recorded(self.store, exc, flag_problem, stopped) from exc
        if flag_problem is not None:
            outcome = replace(outcome, warnings=(*outcome.warnings, kill_truth.flag_warning(flag_problem, stopped)))
        # No publish here: every new kill-history entry is audited and announced by ServiceChanges.commit.
        return outcome

    def adopt_kill_flag(self, who: Who, *, timeout_s: float | None = None) -> Outcome | None:
        """Record a kill raised only by the kill file (``touch EMERGENCY_STOP``), so that
        deleting the file afterwards deactivates nothing. Returns None if nothing to adopt.
        Cheap when there is nothing to adopt: a read, no lock."""
        return self._adopt(self.store.load(), who, timeout_s)

    def _adopt(self, snap: Snapshot, who: Who, timeout_s: float | None) -> Outcome | None:
        now = self.clock()  # one clock read per operation (the check and the record agree)
        if killswitch.adopt(snap, who, now).is_empty:
            return None
        with self._changes.changing(timeout_s=timeout_s) as (tx, events):
            change = killswitch.adopt(tx.snapshot, who, now)
            if change.is_empty:
                return None
            # Its kill-history entry is audited and announced by ServiceChanges.commit, like every change.
            return self._changes.commit(tx, change, events)

    def adopt_quietly(self, who: Who) -> str | None:
        """Adopt for a command that only looks (status): never waits long, never fails.
        Returns why the kill could not be recorded now, if so (it is reported, still in force)."""
        try:
            snap = self.store.load()
        except NijaError:
            return None  # no kill file seen, so none to report: the command's own read says what is wrong
        try:
            self._adopt(snap, who, timeout_s=0.5)
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
        with self._changes.changing() as (tx, events):
            if expected is not None and killswitch.seen(tx.snapshot) != expected:
                raise StateChanged(
                    "The kill switch changed since you looked (a new kill was raised); nothing was done",
                    "Check the kill switch history, then deactivate again if it is still right",
                )
            change = killswitch.deactivate(tx.snapshot, reason, who, self.clock())
            return self._changes.commit(tx, change, events)

    # -- recovery ------------------------------------------------------------------
    def restore(self, who: Who, *, expected: recovery.Plan | str | None = None) -> Outcome:
        from nija.domain import recovery
        from nija.domain.events import EventKind

        return self._run_plan(recovery.plan_restore, who, expected, EventKind.RESTORE)

    def reset(self, who: Who, *, expected: recovery.Plan | str | None = None) -> Outcome:
        from nija.domain import recovery
        from nija.domain.events import EventKind

        return self._run_plan(recovery.plan_reset, who, expected, EventKind.RESET)

    def move(self, target: TradingState, reason: str, who: Who) -> Outcome:
        """A transition named by its target, OFF or DRY_RUN only (``domain.moves``), for
        front ends that say "go to X" (nija.compat); the caller's reason is recorded."""
        from nija.domain import moves

        with self._changes.changing() as (tx, events):
            change = moves.move(tx.snapshot, target, reason, who, self.clock())
            return self._changes.commit(tx, change, events)

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
        with self._changes.changing() as (tx, events):
            plan = planner(tx.snapshot)
            if token is not None and plan.path != token:
                raise StateChanged(
                    f"The state changed while the plan was shown (now {tx.snapshot.state}); nothing was done",
                    "Run the command again to see the new plan",
                )
            if plan.nothing_to_do:
                return outcome_of(tx.snapshot, tx.snapshot, (f"Already {tx.snapshot.state}: nothing to do",))
            record = tx.snapshot.trading
            assert isinstance(record, TradingRecord)  # planners refuse unreadable records
            now = self.clock()
            updated = recovery.apply_plan(record, plan, who, now)
            outcome = self._changes.commit(tx, Change(trading=updated), events, warnings=plan.warnings)
        from nija.domain.events import Event

        self.publish(Event(kind, who.actor, who.source, plan.path, now, {"path": plan.path}))
        return outcome

    def on_bot_start(self, who: Who) -> Outcome:
        """The restart rule: a restart never resumes live trading."""
        with self._changes.changing() as (tx, events):
            snap = tx.snapshot
            if not isinstance(snap.trading, TradingRecord) or not snap.state.is_live:
                return outcome_of(snap, snap, ())
            reason = f"Bot restart: a restart never resumes live trading (was {snap.state})"
            now = self.clock()
            updated = snap.trading.with_transition(
                Transition(snap.state, TradingState.OFF, reason, now, who.actor, who.source)
            )
            outcome = self._changes.commit(tx, Change(trading=updated), events)
        from nija.domain.events import Event, EventKind

        self.publish(Event(EventKind.BOT_STARTED, who.actor, who.source, reason, now))
        return outcome

    # -- live trading (nija.live_flow) ----------------------------------------------
    def credentials_configured(self) -> bool:
        """Raises CredentialsUnreadable (a refusal, for every front end) when they are unusable."""
        return self._live_flow().credentials_configured()

    def request_live(self, who: Who, *, credentials_configured: bool | None = None) -> LiveRequest:
        """Granted to the bot running in DRY_RUN: the request names its run and a fresh nonce.
        ``credentials_configured``: for tests; the injected ``credentials`` decide otherwise."""
        return self._live_flow().request(who, credentials_configured)

    def confirm_live(self, code: str, phrase: str, who: Who) -> Outcome:
        """A wrong code is counted on the request (recorded, then refused); the
        ``MAX_WRONG_CODES``-th cancels the request. Every refusal leaves the transaction
        first, so what was counted is committed on every store."""
        return self._live_flow().confirm(code, phrase, who)

    def cancel_live(self, who: Who, reason: str = "") -> Outcome:
        self._check_reason(reason, "cancellation reason")
        return self._live_flow().cancel(_plain(who), reason)

    def expire_live_request(self, who: Who) -> Outcome | None:
        return self._live_flow().expire(who)

    def reconcile_audit(self) -> None:
        """Append the audit records of committed changes that have none (a process killed
        between its commit and its audit), marked as recovered. Every transaction does this
        too; this runs one that changes nothing."""
        with self._changes.changing():
            pass

    # -- plumbing ------------------------------------------------------------------
    def _live_flow(self) -> LiveFlow:
        """The live flow (``nija.live_flow``): loaded only by a process that goes near live."""
        if self._live is None:
            from nija.live_flow import LiveFlow

            policy = self.policy
            with self._building:
                if self._live is None:
                    self._live = LiveFlow(
                        self._changes,
                        clock=self._clock,
                        policy=policy,
                        checks=self._live_checks,
                        config_problem=self._config_problem,
                        credentials=self._credentials,
                    )
        return self._live

    def _check_reason(self, reason: str, what: str, *, activating: bool = False) -> None:
        """Refuse free text that could repaint a terminal (invariant 12), for every front end."""
        try:
            check_reason(reason, what)
        except NijaError as exc:
            if activating:
                exc.message += f". This request did NOT activate the kill switch; {kill_truth.in_force(self.store)}"
            raise

    def publish(self, event: Event) -> None:
        """Tell the audit trail and every listener (notifications, metrics, event stream) about
        an event that is not part of a store transaction."""
        self._changes.publish(event)


def _plain(who: Who) -> Who:
    """Actors come from token and bot names, refused at creation when unsafe, and from the
    OS account; whatever slipped through is stored escaped: a kill never waits on a name."""
    actor = printable(who.actor)
    return who if actor == who.actor else Who(actor, who.source)


__all__ = ["BotMessenger", "NijaError", "Outcome", "SafetyService", "system_clock"]
