"""The fleet's audit trail in the database (table ``nija_audit``): one hash chain for every
bot, the fleet and the accounts, appended in the same transaction as the change it records.

Why one chain and not one per bot: a fleet incident is proven from one place, in one
order. Writers serialise on the chain-head row (``SELECT ... FOR UPDATE`` on
``nija_audit_head``), taken last in the transaction, after every row lock the change
needs, so it is held only for the few inserts and the commit and cannot deadlock with
the scope locks. Each row holds the record exactly as hashed (the format of a line of
``.nija_audit.jsonl``, with the record's ``scope``): verification needs no re-encoding,
and the copies in the other columns (seq, scope, kind) are checked against it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from nija.audit import chain
from nija.audit.chain import AuditRecord, BadLine, Head
from nija.audit.verify import Problem, Verdict
from nija.domain.events import Event

if TYPE_CHECKING:  # psycopg loads only where the fleet store is used
    from nija.store.postgres.connect import Conn

_FETCH = 2000  # rows per round trip of the server-side cursor: memory stays bounded


@dataclass(frozen=True, slots=True)
class Item:
    """One record to append: the scope it is about, the event, and the history row it
    stands for (``transition:ID`` / ``kill_event:ID``), if any."""

    scope: str
    event: Event
    entry: str | None = None


def append(conn: Conn, items: Sequence[Item]) -> Head | None:
    """Append ``items`` inside the caller's transaction (which must be open)."""
    if not items:
        return None
    row = conn.execute("SELECT seq, hash FROM nija_audit_head WHERE id = 1 FOR UPDATE").fetchone()
    if row is None:
        raise ValueError("the audit chain head row is missing: run 'nija db upgrade'")
    seq, prev = int(row[0]), str(row[1])  # type: ignore[call-overload]
    values = []
    for item in items:
        seq += 1
        line, prev = chain.encode(item.event, seq, prev, scope=item.scope)
        values.append((seq, item.scope, str(item.event.kind), item.event.timestamp, item.entry, line[:-1].decode()))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO nija_audit (seq, scope, kind, at, entry, line) VALUES (%s, %s, %s, %s, %s, %s)", values
        )
    conn.execute("UPDATE nija_audit_head SET seq = %s, hash = %s WHERE id = 1", (seq, prev))
    return Head(seq, prev)


@dataclass(frozen=True, slots=True)
class FleetVerdict:
    chain: Verdict
    missing: tuple[str, ...]  # history rows (written since the trail began) without a record

    @property
    def intact(self) -> bool:
        return self.chain.intact

    @property
    def complete(self) -> bool:
        return not self.missing


def verify(conn: Conn) -> FleetVerdict:
    """Walk the whole chain in one snapshot of the database (constant memory)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head_row = conn.execute(
            "SELECT seq, hash, transitions_from, kill_events_from FROM nija_audit_head WHERE id = 1"
        ).fetchone()
        if head_row is None:
            return FleetVerdict(Verdict(0, None, Problem(0, None, "the chain head row is missing (deleted?)")), ())
        head = Head(int(head_row[0]), str(head_row[1]))  # type: ignore[call-overload]
        verdict = _walk(conn, head)
        missing = _missing(conn, int(head_row[2]), int(head_row[3])) if verdict.intact else ()  # type: ignore[call-overload]
        return FleetVerdict(verdict, missing)


def _walk(conn: Conn, head: Head) -> Verdict:
    prev, expected, last = chain.GENESIS, 1, None
    with conn.cursor(name="nija_audit_verify") as cur:
        cur.itersize = _FETCH
        cur.execute("SELECT seq, scope, kind, line FROM nija_audit ORDER BY seq")
        for seq_col, scope_col, kind_col, line in cur:
            seq = int(seq_col)  # type: ignore[call-overload]
            problem = _check(seq, str(scope_col), str(kind_col), str(line), expected, prev)
            if problem is not None:
                return Verdict(expected - 1, last, Problem(seq, seq, problem))
            _, stated = chain.split(str(line).encode())
            prev, last, expected = stated, Head(seq, stated), expected + 1
    end = last.seq if last is not None else 0
    if head.seq != end or (last is not None and head.hash != last.hash):
        if head.seq > end:
            message = (
                f"missing: the chain ends at record #{end} but the head says record #{head.seq} was written "
                "(records removed from the end)"
            )
        else:
            message = f"the chain head (record #{head.seq}, {head.hash[:16]}…) does not match the last record #{end}"
        return Verdict(end, last, Problem(end + 1, head.seq, message))
    return Verdict(end, last, None)


def _check(seq: int, scope: str, kind: str, line: str, expected: int, prev: str) -> str | None:
    if seq != expected:
        what = "removed" if seq > expected else "duplicated"
        return f"expected record #{expected} here, found #{seq} (records {what} or renumbered)"
    try:
        body, stated = chain.split(line.encode())
        number, linked = chain.link(body)
        record = chain.parse(body, stated)
    except BadLine as exc:
        return f"not a well-formed record ({exc})"
    if chain.digest(body) != stated:
        return "its content does not match its hash (the record was edited)"
    if number != seq:
        return f"the record says it is #{number} (renumbered or moved)"
    if linked != prev:
        return "it does not follow the record before it (records removed, inserted or reordered)"
    if record.scope != scope or record.kind != kind:
        return f"its columns (scope {scope!r}, kind {kind!r}) differ from the hashed record (edited)"
    return None


def _missing(conn: Conn, transitions_from: int, kills_from: int) -> tuple[str, ...]:
    found = conn.execute(
        "SELECT 'transition:' || t.id || ' (' || t.scope || ' ' || t.from_state || ' -> ' || t.to_state || ')'"
        " FROM nija_transition t WHERE t.id > %s AND NOT EXISTS"
        " (SELECT 1 FROM nija_audit a WHERE a.entry = 'transition:' || t.id)"
        " UNION ALL SELECT 'kill_event:' || k.id || ' (' || k.scope || ' ' || coalesce(k.action, 'legacy') || ')'"
        " FROM nija_kill_event k WHERE k.id > %s AND NOT EXISTS"
        " (SELECT 1 FROM nija_audit a WHERE a.entry = 'kill_event:' || k.id) LIMIT 100",
        (transitions_from, kills_from),
    ).fetchall()
    return tuple(str(r[0]) for r in found)


def records(conn: Conn, *, scope: str | None = None, since: datetime | None = None) -> Iterator[AuditRecord | BadLine]:
    """The records (oldest first), of one scope or all; hashes not checked (``verify`` does)."""
    query = "SELECT line FROM nija_audit WHERE (%(scope)s::text IS NULL OR scope = %(scope)s)"
    query += " AND (%(since)s::timestamptz IS NULL OR at >= %(since)s) ORDER BY seq"
    with conn.transaction(), conn.cursor(name="nija_audit_show") as cur:
        cur.itersize = _FETCH
        cur.execute(query, {"scope": scope, "since": since})
        for (line,) in cur:
            try:
                yield chain.decode(str(line).encode())
            except BadLine as exc:
                yield exc


# Recorded in the transaction by the store itself, from the history rows it writes.
_HISTORY_KINDS = frozenset({"transition", "kill_activated", "kill_deactivated"})
# Left to each host's file trail: one per denied order, on the order path of every bot.
_HOST_ONLY_KINDS = frozenset({"order_denied"})


class FleetAuditTrail:
    """The service's recorder on the fleet store: a transaction's events go into the chain
    in that same transaction; events outside any change in a transaction of their own."""

    __name__ = "fleet audit"  # how SafetyService names this recorder in listener_errors

    def __init__(self, store: FleetAuditStore) -> None:
        self.store = store

    def __call__(self, event: Event) -> None:
        if str(event.kind) not in _HOST_ONLY_KINDS:
            self.store.append_audit([event])

    def record(self, snapshot: object, events: Sequence[Event]) -> None:
        del snapshot  # every history row is audited by the store as it writes it
        self.store.audit_in_transaction([e for e in events if str(e.kind) not in _HISTORY_KINDS])


@runtime_checkable
class FleetAuditStore(Protocol):
    def audit_in_transaction(self, events: Sequence[Event]) -> None: ...

    def append_audit(self, events: Sequence[Event]) -> None: ...
