"""The service's transaction plumbing: a store transaction whose events are audited under
its lock, the outcome of a commit, and delivery to the listeners afterwards.

Listener and audit failures are collected in ``errors`` and never undo or delay a safety
action: the change is committed before anyone is told."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from nija.domain.change import Change
from nija.domain.records import KillEvent, KillRecord, Snapshot, TradingRecord, Transition
from nija.domain.states import TradingState
from nija.store.ports import Store, Transaction

if TYPE_CHECKING:
    from nija.domain.events import Event  # built by the service and nija.audit.changes, loaded there

Listener = Callable[["Event"], None]


class Recorder(Protocol):
    """The audit trail, when it can be kept complete: records a transaction's events while
    its lock is held, after any committed change it finds without a record."""

    def __call__(self, event: Event) -> None: ...

    def record(self, snapshot: Snapshot, events: Sequence[Event]) -> object: ...


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


class ServiceChanges:
    """Open, commit, audit, then tell: the one path of every change the service makes.

    ``listeners`` and ``errors`` are the service's own lists (``SafetyService.listeners``,
    ``.listener_errors``): a listener appended there is told by the next change."""

    def __init__(
        self, store: Store, *, listeners: list[Listener], errors: list[str], recorder: Recorder | None
    ) -> None:
        self.store = store
        self.listeners = listeners
        self.errors = errors
        self.recorder = recorder  # else the audit trail, if any, is one of the listeners

    @contextmanager
    def changing(self, *, timeout_s: float | None = None) -> Iterator[tuple[Transaction, list[Event]]]:
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

    def commit(
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
        result = outcome_of(before, after, change.messages, warnings)
        if isinstance(events, _Events) and not change.is_empty:
            events.after = after
        # One record per history entry, with the entry's own time: the audit can be checked
        # against the histories (nija.audit.changes).
        try:
            from nija.audit.changes import kill_event, transition_event  # only when something changed
        except (ImportError, OSError) as exc:  # the change is committed: it stands, unaudited until reconciled
            self.errors.append(f"audit: the records of this change could not be built: {exc}")
            return result
        events.extend(transition_event(t) for t in result.transitions)
        if isinstance(after.kill, KillRecord) and after.kill is not before.kill:
            events.extend(kill_event(k) for k in _new_kill_entries(before.kill, after.kill))
        return result

    def publish(self, event: Event) -> None:
        """Tell the audit trail and every listener about an event outside a transaction."""
        if self.recorder is not None:
            self._deliver(self.recorder, event)
        self._notify(event)

    def _record(self, snapshot: Snapshot, events: list[Event]) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.record(snapshot, events)
        except Exception as exc:  # noqa: BLE001 - the audit never blocks a safety action
            self.errors.append(f"{getattr(self.recorder, '__name__', 'audit')}: {exc}")

    def _notify(self, event: Event) -> None:
        for listener in self.listeners:
            self._deliver(listener, event)

    def _deliver(self, listener: Listener, event: Event) -> None:
        try:
            listener(event)
        except Exception as exc:  # noqa: BLE001 - a listener never blocks a safety action
            self.errors.append(f"{getattr(listener, '__name__', listener)}: {exc}")


def outcome_of(before: Snapshot, after: Snapshot, messages: tuple[str, ...], warnings: tuple[str, ...] = ()) -> Outcome:
    """The outcome of going from ``before`` to ``after``: the history entries that are new."""
    new: tuple[Transition, ...] = ()
    if isinstance(after.trading, TradingRecord) and after.trading is not before.trading:
        new = _new_entries(before.trading, after.trading)
    return Outcome(before.state, after.state, after.kill_active, new, messages, warnings)


class _Events(list["Event"]):
    """A transaction's events, and the records as its last commit left them."""

    after: Snapshot | None = None


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


__all__ = ["Listener", "Outcome", "Recorder", "ServiceChanges", "outcome_of"]
