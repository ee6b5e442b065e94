"""Rows of one scope to and from the domain's records.

Reading never trusts a row: an unknown state or action makes the record ``Unreadable``
(fail closed), exactly like a corrupt JSON file. Writing appends only the history entries
the domain added, so concurrent readers always see a history that chains."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from psycopg.types.json import Jsonb

from nija.domain.records import (
    MAX_HISTORY,
    KillAction,
    KillEvent,
    KillRecord,
    TradingRecord,
    Transition,
    Unreadable,
)
from nija.domain.states import parse_state
from nija.store import codec
from nija.store.postgres.connect import Conn

R = TypeVar("R")
T = TypeVar("T")

FLEET = "@fleet"
ACCOUNT_PREFIX = "@account:"  # an account's kill scope: every bot trading that exchange account


def account_scope(account: str) -> str:
    return ACCOUNT_PREFIX + account


def is_account_scope(scope: str) -> bool:
    return scope.startswith(ACCOUNT_PREFIX)


# A transaction's rules look at the newest entries only (the last transition, the last
# activation), and writes append: reading a short window keeps row locks short.
TX_HISTORY = 50


@dataclass(frozen=True, slots=True)
class ScopeRows:
    """One scope as read: its records, the ids of its raised kill flags, the raw row."""

    trading: TradingRecord | Unreadable
    kill: KillRecord | Unreadable
    flag_ids: tuple[int, ...]
    raw: dict[str, Any] | None  # None: the scope has no row yet
    first_flag: KillEvent | None = None  # the oldest raised flag: who raised it, when, why

    @property
    def kill_active(self) -> bool:
        return bool(self.flag_ids) or not isinstance(self.kill, KillRecord) or self.kill.is_active


_SCOPE_SELECT = (
    "SELECT state, last_updated, pending_live, kill_active, kill_last_updated, live_grant"
    " FROM nija_scope WHERE name = %s"
)
_SCOPE_SQL = {
    "": _SCOPE_SELECT,
    "FOR UPDATE": _SCOPE_SELECT + " FOR UPDATE",
    "FOR SHARE": _SCOPE_SELECT + " FOR SHARE",
}


def read_scope(conn: Conn, scope: str, where: str, *, lock: str = "", history: int = MAX_HISTORY) -> ScopeRows:
    """``lock``: "" (plain read), "FOR UPDATE" or "FOR SHARE"; ``history``: how many of the
    newest entries to read. One round trip (pipelined)."""
    with conn.pipeline():
        row_cur = conn.execute(_SCOPE_SQL[lock], (scope,))
        flag_cur = conn.execute(
            "SELECT id, reason, actor, source, raised_at FROM nija_kill_flag WHERE scope = %s ORDER BY id", (scope,)
        )
        transition_cur = conn.execute(
            "SELECT from_state, to_state, reason, at, actor, source FROM ("
            " SELECT * FROM nija_transition WHERE scope = %s ORDER BY id DESC LIMIT %s) t ORDER BY id",
            (scope, history),
        )
        event_cur = conn.execute(
            "SELECT action, reason, at, actor, source, repeated FROM ("
            " SELECT * FROM nija_kill_event WHERE scope = %s ORDER BY id DESC LIMIT %s) e ORDER BY id",
            (scope, history),
        )
    row = row_cur.fetchone()
    flag_rows = flag_cur.fetchall()
    flags = tuple(int(r[0]) for r in flag_rows)  # type: ignore[call-overload]
    first = _flag_event(flag_rows[0]) if flag_rows else None
    transitions, events = transition_cur.fetchall(), event_cur.fetchall()
    if row is None:
        return ScopeRows(TradingRecord(), KillRecord(), flags, None, first)
    state, last_updated, pending, kill_active, kill_updated, grant = row
    raw = {"state": state, "pending_live": pending, "kill_active": kill_active, "live_grant": grant}
    location = f"{where} (scope {scope})"
    return ScopeRows(
        _trading(state, last_updated, pending, grant, transitions, location),
        _kill(kill_active, kill_updated, events, location),
        flags,
        raw,
        first,
    )


def _flag_event(row: tuple[object, ...]) -> KillEvent | None:
    _, reason, actor, source, raised_at = row
    if not isinstance(raised_at, datetime) or raised_at.tzinfo is None:
        return None
    return KillEvent(KillAction.ACTIVATE, str(reason), raised_at, str(source), str(actor))


_FLEET_KILLED_SQL = (
    "SELECT kill_active IS NOT FALSE OR state NOT IN ('OFF', 'EMERGENCY_STOP')"
    " OR EXISTS (SELECT 1 FROM nija_kill_flag WHERE scope = %(fleet)s)"
    " FROM nija_scope WHERE name = %(fleet)s"
)


_ACCOUNT_KILLED_SQL = (
    "SELECT kill_active IS NOT FALSE OR state NOT IN ('OFF', 'EMERGENCY_STOP')"
    " OR EXISTS (SELECT 1 FROM nija_kill_flag WHERE scope = %(scope)s)"
    " FROM nija_scope WHERE name = %(scope)s"
)


def bot_account(conn: Conn, scope: str) -> str | None:
    """The exchange account the bot declared (``[exchange] account``), if any."""
    row = conn.execute("SELECT account FROM nija_scope WHERE name = %s", (scope,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def account_killed(conn: Conn, account: str | None, *, share_lock: bool) -> bool:
    """Whether the kill of the bot's account holds (no account, or no row yet: it does not;
    a flag raised on an account without a row does)."""
    if account is None:
        return False
    scope = account_scope(account)
    row = conn.execute(_ACCOUNT_KILLED_SQL + (" FOR SHARE" if share_lock else ""), {"scope": scope}).fetchone()
    if row is None:
        flagged = conn.execute("SELECT EXISTS (SELECT 1 FROM nija_kill_flag WHERE scope = %s)", (scope,)).fetchone()
        return bool(flagged and flagged[0])
    return bool(row[0])


def fleet_killed(conn: Conn, *, share_lock: bool) -> bool:
    """Whether the fleet kill holds: flag raised, recorded active, or the row unreadable
    (the fleet row only ever holds OFF or EMERGENCY_STOP). A missing row counts as killed."""
    query = _FLEET_KILLED_SQL + (" FOR SHARE" if share_lock else "")
    row = conn.execute(query, {"fleet": FLEET}).fetchone()
    return True if row is None else bool(row[0])


def _trading(
    state: object,
    last_updated: object,
    pending: object,
    grant: object,
    transitions: list[tuple[object, ...]],
    location: str,
) -> TradingRecord | Unreadable:
    try:
        history = tuple(
            Transition(parse_state(str(f)), parse_state(str(t)), str(r), _time(at), str(a), str(s))
            for f, t, r, at, a, s in transitions
        )
        return TradingRecord(
            parse_state(str(state)),
            history,
            _time(last_updated) if last_updated is not None else None,
            _document(pending, "pending_live", codec.pending_from),
            _document(grant, "live_grant", codec.grant_from),
        )
    except (ValueError, TypeError, KeyError) as exc:
        return Unreadable(f"{location} trading state", f"unreadable row: {exc}")


def _document(doc: object, what: str, build: Callable[[dict[str, Any]], R]) -> R | None:
    """The jsonb columns hold the same documents as the JSON files, decoded as strictly."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise TypeError(f"{what} must be an object")
    return build(doc)


def _kill(active: object, updated: object, events: list[tuple[object, ...]], location: str) -> KillRecord | Unreadable:
    try:
        if not isinstance(active, bool):
            raise TypeError("kill_active must be a boolean")
        history = tuple(
            KillEvent(None if act is None else KillAction(str(act)), str(r), _time(at), str(s), str(a), bool(rep))
            for act, r, at, a, s, rep in events
        )
        return KillRecord(active, history, _time(updated) if updated is not None else None)
    except (ValueError, TypeError) as exc:
        return Unreadable(f"{location} kill switch", f"unreadable row: {exc}")


def _time(value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError(f"bad timestamp {value!r}")
    return value


# -- writing --------------------------------------------------------------------------
def ensure_scope(conn: Conn, scope: str) -> None:
    conn.execute("INSERT INTO nija_scope (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (scope,))


def write_trading(
    conn: Conn, scope: str, before: TradingRecord | Unreadable, after: TradingRecord
) -> list[tuple[str, Transition]]:
    """Returns the entries appended, each with the id of its row (``transition:ID``)."""
    new = _new_entries(before.history if isinstance(before, TradingRecord) else (), after.history)
    written: list[tuple[str, Transition]] = []
    for t in new:
        row = conn.execute(
            "INSERT INTO nija_transition (scope, from_state, to_state, reason, at, actor, source) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (scope, str(t.from_state), str(t.to_state), t.reason, t.timestamp, t.actor, t.source),
        ).fetchone()
        assert row is not None  # RETURNING always returns the inserted row
        written.append((f"transition:{row[0]}", t))
    conn.execute(
        "UPDATE nija_scope SET state = %s, last_updated = %s, pending_live = %s, live_grant = %s WHERE name = %s",
        (
            str(after.current_state),
            after.last_updated,
            _jsonb(after.pending_live, codec.pending_doc),
            _jsonb(after.live_grant, codec.grant_doc),
            scope,
        ),
    )
    return written


def write_kill(
    conn: Conn, scope: str, before: KillRecord | Unreadable, after: KillRecord
) -> list[tuple[str, KillEvent]]:
    """Returns the entries appended, each with the id of its row (``kill_event:ID``)."""
    new = _new_entries(before.history if isinstance(before, KillRecord) else (), after.history)
    written: list[tuple[str, KillEvent]] = []
    for e in new:
        row = conn.execute(
            "INSERT INTO nija_kill_event (scope, action, reason, at, actor, source, repeated) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (scope, str(e.action) if e.action else None, e.reason, e.timestamp, e.actor, e.source, e.repeated),
        ).fetchone()
        assert row is not None  # RETURNING always returns the inserted row
        written.append((f"kill_event:{row[0]}", e))
    conn.execute(
        "UPDATE nija_scope SET kill_active = %s, kill_last_updated = %s WHERE name = %s",
        (after.is_active, after.last_updated, scope),
    )
    return written


def back_up(conn: Conn, scope: str, record: str, raw: dict[str, Any] | None) -> None:
    """Keep an unreadable row's content before the repair replaces it."""
    conn.execute(
        "INSERT INTO nija_corrupt_backup (scope, record, content) VALUES (%s, %s, %s)",
        (scope, record, json.dumps(raw, default=str)),
    )


def _new_entries(before: tuple[Any, ...], after: tuple[Any, ...]) -> tuple[Any, ...]:
    """The entries the domain appended: objects not present (by identity) before."""
    known = {id(entry) for entry in before}
    return tuple(entry for entry in after if id(entry) not in known)


def _jsonb(value: T | None, encode: Callable[[T], dict[str, Any]]) -> Jsonb | None:
    return None if value is None else Jsonb(encode(value))
