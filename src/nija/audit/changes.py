"""Committed changes as the audit trail sees them: pure functions, no I/O.

A committed change is an entry of the trading state history or of the kill switch history.
Each one has exactly one audit record whose kind and time (and, for a transition, its
from/to states) are the entry's own, so the trail can be checked against the histories:

    transition      ("transition", time, from, to)
    kill entry      ("kill_activated" | "kill_deactivated", time)

Records written before kill records carried the entry's time are matched on their kind,
actor, source and reason instead (``legacy_key``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from nija.audit.chain import AuditRecord
from nija.domain.events import Event, EventKind
from nija.domain.records import KillAction, KillEvent, KillRecord, Snapshot, TradingRecord, Transition
from nija.domain.text import printable

Key = tuple[str, ...]
LEGACY_SLACK_S = 5.0  # an old kill record read the clock moments before or after its entry
RECOVERED = "recovered"  # the detail that marks a record appended by reconciliation


@dataclass(frozen=True, slots=True)
class Committed:
    """One history entry and its audit key (the event that records it is built on demand)."""

    key: Key
    legacy: Key | None
    entry: Transition | KillEvent
    where: str  # which history holds it, for messages

    @property
    def event(self) -> Event:
        return transition_event(self.entry) if isinstance(self.entry, Transition) else kill_event(self.entry)

    def describe(self) -> str:
        """One line for messages; free text is neutralised (it may hold control characters)."""
        e = self.event
        what = f"{e.details['from']} -> {e.details['to']}" if e.kind is EventKind.TRANSITION else str(e.kind)
        who = f"{printable(e.actor)} via {printable(e.source)} ('{printable(e.reason)}')"
        return f"{what} at {e.timestamp.isoformat()} by {who} in the {self.where}"


def transition_event(t: Transition) -> Event:
    return Event(
        EventKind.TRANSITION,
        t.actor,
        t.source,
        t.reason,
        t.timestamp,
        {"from": str(t.from_state), "to": str(t.to_state)},
    )


def _kill_kind(e: KillEvent) -> EventKind:
    # Anything but a deactivation (an activation, a legacy entry, a note) keeps the kill in force.
    return EventKind.KILL_DEACTIVATED if e.action is KillAction.DEACTIVATE else EventKind.KILL_ACTIVATED


def kill_event(e: KillEvent) -> Event:
    return Event(_kill_kind(e), e.actor, e.source, e.reason, e.timestamp)


def committed(snapshot: Snapshot) -> list[Committed]:
    """Every entry of the readable histories, trading first, each in history order."""
    found: list[Committed] = []
    if isinstance(snapshot.trading, TradingRecord):
        kind = str(EventKind.TRANSITION)
        for t in snapshot.trading.history:
            key = (kind, t.timestamp.isoformat(), str(t.from_state), str(t.to_state))
            found.append(Committed(key, None, t, "trading state history"))
    if isinstance(snapshot.kill, KillRecord):
        for k in snapshot.kill.history:
            kill_kind = str(_kill_kind(k))
            legacy = (kill_kind, k.actor, k.source, k.reason)
            found.append(Committed((kill_kind, k.timestamp.isoformat()), legacy, k, "kill switch history"))
    return found


def event_key(event: Event) -> Key:
    if event.kind is EventKind.TRANSITION:
        return (str(event.kind), event.timestamp.isoformat(), event.details["from"], event.details["to"])
    return (str(event.kind), event.timestamp.isoformat())


def record_key(record: AuditRecord) -> Key | None:
    """The key of a record that can stand for a history entry, else None."""
    if record.kind == EventKind.TRANSITION:
        return (record.kind, record.time, record.details.get("from", ""), record.details.get("to", ""))
    if record.kind in (EventKind.KILL_ACTIVATED, EventKind.KILL_DEACTIVATED):
        return (record.kind, record.time)
    return None


@dataclass
class Tally:
    """The audit keys seen, counted (a key seen twice stands for two equal entries), and the
    kill records, for entries whose record was written before it carried the entry's time."""

    keys: Counter[Key] = field(default_factory=Counter)
    kills: list[AuditRecord] = field(default_factory=list)

    @classmethod
    def of(cls, audit: Iterable[AuditRecord], entries: Iterable[Committed]) -> Tally:
        """Only what could stand for one of ``entries`` is kept: memory follows the histories
        (at most a few thousand entries), not the length of the log."""
        wanted = list(entries)
        keys = {entry.key for entry in wanted}
        legacy = {entry.legacy for entry in wanted if entry.legacy is not None}
        tally = cls()
        for record in audit:
            key = record_key(record)
            if key is None:
                continue
            if key in keys:
                tally.keys[key] += 1
            if (
                record.kind != EventKind.TRANSITION
                and (record.kind, record.actor, record.source, record.reason) in legacy
            ):
                tally.kills.append(record)
        return tally


def missing(entries: Iterable[Committed], tally: Tally) -> list[Committed]:
    """The entries no audit record stands for, in history order."""
    keys = Counter(tally.keys)
    unmatched: list[Committed] = []
    for entry in entries:
        if keys[entry.key] > 0:
            keys[entry.key] -= 1
        else:
            unmatched.append(entry)
    if not unmatched:
        return []
    spare: list[AuditRecord] = []  # kill records no entry claimed by its exact key
    for record in reversed(tally.kills):
        key = record_key(record)
        if key not in tally.keys:  # its exact key names no entry
            spare.append(record)
        elif key is not None and keys[key] > 0:  # more such records than entries
            keys[key] -= 1
            spare.append(record)
    return [entry for entry in unmatched if not _claim_legacy(entry, spare)]


def _claim_legacy(entry: Committed, spare: list[AuditRecord]) -> bool:
    """An old-style kill record: same kind, who and why, written within moments of the entry."""
    if entry.legacy is None:
        return False
    e = entry.event
    for i, record in enumerate(spare):
        if (record.kind, record.actor, record.source, record.reason) != entry.legacy:
            continue
        try:
            apart = abs((record.timestamp - e.timestamp).total_seconds())
        except (TypeError, ValueError):
            continue
        if apart <= LEGACY_SLACK_S:
            del spare[i]
            return True
    return False


def recovered_event(entry: Committed, now: datetime, by: str) -> Event:
    """The record for an entry found committed without one: the entry's own who, why and
    when, marked as appended later by reconciliation."""
    e = entry.event
    details = {**e.details, RECOVERED: "true", "recovered_at": now.isoformat(), "recovered_by": by}
    return Event(e.kind, e.actor, e.source, e.reason, e.timestamp, details)
