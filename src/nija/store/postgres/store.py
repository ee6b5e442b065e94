"""The PostgreSQL store: one scope (the fleet or a bot) of a fleet database.

A bot's snapshot composes the fleet in: its kill flag is raised when the fleet's flag is
raised or the fleet kill is recorded active, so every domain rule (permission, refusals,
diagnosis) sees the fleet kill without knowing about fleets. Transactions lock the fleet
row (shared) and then the scope row (exclusive), always in that order; the fleet's own
transactions lock every bot row, so a fleet kill and its cascade are one commit.

Kill flags are rows inserted by one short transaction on a connection of their own: an
insert never waits for the row locks transitions hold, and NOTIFY tells every bot."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

import psycopg
from psycopg.pq import TransactionStatus

from nija.domain.change import Change
from nija.domain.errors import SafetyRefusal, UsageProblem
from nija.domain.live_auth import LiveVerifier
from nija.domain.records import Heartbeat, KillFlag, KillFlagKind, KillRecord, Snapshot, TradingRecord
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.store.postgres import cascade, rows
from nija.store.postgres.connect import Conn, connect, database_errors, mask
from nija.store.postgres.feed import PostgresChangeFeed
from nija.store.postgres.rows import FLEET, ScopeRows
from nija.store.postgres.schema import require_current
from nija.store.postgres.view import CHANNEL, PostgresPermissionView, stale_after_from_env

_FLEET_STATES = (TradingState.OFF, TradingState.EMERGENCY_STOP)
_PROBE_AFTER_S = 1.0


class PostgresStore:
    def __init__(self, url: str, *, bot: str | None = None, stale_after_s: float | None = None) -> None:
        self.url = url
        self.scope = bot or FLEET
        self.stale_after_s = stale_after_s if stale_after_s is not None else stale_after_from_env()
        self._conn: Conn | None = None
        self._used = 0.0  # monotonic time the connection was last handed out
        self._flag_conn: Conn | None = None
        self._lock = threading.RLock()
        self._flag_lock = threading.Lock()
        self._view: PostgresPermissionView | None = None
        self._view_lock = threading.Lock()

    @property
    def is_fleet(self) -> bool:
        return self.scope == FLEET

    def changes(self) -> PostgresChangeFeed:
        """Wakes on every commit and kill of this scope and of the fleet (NOTIFY)."""
        return PostgresChangeFeed(self.url, self.scope)

    @property
    def location(self) -> str:
        return f"{mask(self.url)} ({'fleet' if self.is_fleet else f'bot {self.scope}'})"

    def close(self) -> None:
        if self._view is not None:
            self._view.close()
            self._view = None
        for conn in (self._conn, self._flag_conn):
            if conn is not None:
                conn.close()
        self._conn = self._flag_conn = None

    # -- connections ---------------------------------------------------------------
    def _connection(self) -> Conn:
        """The store's connection; one idle for a while is probed first, so a long-lived
        process whose connection the server dropped (a restart) reconnects instead of failing."""
        conn = self._conn
        if conn is not None and not (conn.closed or conn.broken) and time.monotonic() - self._used > _PROBE_AFTER_S:
            try:
                conn.execute("SELECT 1")
            except psycopg.OperationalError:
                conn.close()
        if conn is None or conn.closed or conn.broken:
            conn = connect(self.url)
            with database_errors(self.url):
                require_current(conn, mask(self.url))
            self._conn = conn
        self._used = time.monotonic()
        return conn

    # -- reading -------------------------------------------------------------------
    def load(self) -> Snapshot:
        return self.load_scope(self.scope)

    def load_scope(self, scope: str) -> Snapshot:
        """Another scope's snapshot over this store's connection (the fleet overview)."""
        with self._lock, database_errors(self.url):
            conn = self._connection()
            # One snapshot of the database for all the queries below.
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                snap = self._compose(conn, scope)
                return replace(snap, heartbeat=_heartbeat(conn, scope), not_writable=_not_writable(conn, self))

    def scopes(self) -> tuple[str, ...]:
        """Every bot that has ever been recorded, by name."""
        with self._lock, database_errors(self.url):
            found = self._connection().execute("SELECT name FROM nija_scope WHERE name <> %s ORDER BY name", (FLEET,))
            return tuple(str(r[0]) for r in found)

    def _compose(self, conn: Conn, scope: str) -> Snapshot:
        where = mask(self.url)
        own = rows.read_scope(conn, scope, where)
        if scope == FLEET:
            return _snapshot(own, fleet_killed=False)
        return _snapshot(own, fleet_killed=rows.fleet_killed(conn, share_lock=False))

    # -- writing -------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, timeout_s: float | None = None) -> Iterator[PostgresTransaction]:
        with self._lock, database_errors(self.url):
            conn = self._connection()
            if conn.info.transaction_status is not TransactionStatus.IDLE:
                raise UsageProblem("Nested transactions on one store are not supported", "Fix the caller")
            with conn.transaction():
                if timeout_s is not None:
                    conn.execute(f"SET LOCAL lock_timeout = '{max(int(timeout_s * 1000), 1)}ms'")
                yield PostgresTransaction(self, conn)

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        with self._flag_lock, database_errors(self.url):
            try:
                self._insert_flag(reason, who, now)
            except psycopg.OperationalError:
                # A long-lived process (API, control center) may hold a connection the
                # server dropped since; a kill deserves one retry on a fresh one.
                self._flag_conn = None
                self._insert_flag(reason, who, now)

    def _insert_flag(self, reason: str, who: Who, now: datetime) -> None:
        if self._flag_conn is None or self._flag_conn.closed or self._flag_conn.broken:
            self._flag_conn = connect(self.url, application_name="nija-kill")
        conn = self._flag_conn
        with conn.transaction():
            conn.execute(
                "INSERT INTO nija_kill_flag (scope, reason, actor, source, raised_at) VALUES (%s, %s, %s, %s, %s)",
                (self.scope, reason, who.actor, who.source, now),
            )
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"kill:{self.scope}"))

    def permission_view(self, verifier: LiveVerifier | None = None) -> PostgresPermissionView:
        """One view per store (a thread and a connection): asking again returns the same one,
        so a gate that calls ``permission_view().check()`` per order stays cheap. A view
        with the running bot's verifier is its own (the caller keeps it)."""
        if verifier is not None:
            return PostgresPermissionView(self.url, self.scope, stale_after_s=self.stale_after_s, verifier=verifier)
        with self._view_lock:
            if self._view is None:
                self._view = PostgresPermissionView(self.url, self.scope, stale_after_s=self.stale_after_s)
            return self._view

    def beat(self, heartbeat: Heartbeat) -> None:
        with self._lock, database_errors(self.url):
            self._connection().execute(
                "INSERT INTO nija_heartbeat (scope, pid, host, last_beat, started_at, stopped, run_id, "
                "dry_run_seconds, seen_nonce, live_nonce, live_refused) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (scope) DO UPDATE SET "
                "pid = excluded.pid, host = excluded.host, last_beat = excluded.last_beat, "
                "started_at = excluded.started_at, stopped = excluded.stopped, run_id = excluded.run_id, "
                "dry_run_seconds = excluded.dry_run_seconds, seen_nonce = excluded.seen_nonce, "
                "live_nonce = excluded.live_nonce, live_refused = excluded.live_refused",
                (
                    self.scope,
                    heartbeat.pid,
                    heartbeat.host,
                    heartbeat.last_beat,
                    heartbeat.started_at,
                    heartbeat.stopped,
                    heartbeat.run_id,
                    heartbeat.dry_run_s,
                    heartbeat.seen_nonce,
                    heartbeat.live_nonce,
                    heartbeat.live_refused,
                ),
            )


class PostgresTransaction:
    def __init__(self, store: PostgresStore, conn: Conn) -> None:
        self._store = store
        self._conn = conn
        where = mask(store.url)
        if store.is_fleet:
            self._fleet_killed = False
            self._own = rows.read_scope(conn, FLEET, where, lock="FOR UPDATE", history=rows.TX_HISTORY)
        else:
            self._fleet_killed = rows.fleet_killed(conn, share_lock=True)
            rows.ensure_scope(conn, store.scope)
            self._own = rows.read_scope(conn, store.scope, where, lock="FOR UPDATE", history=rows.TX_HISTORY)
        # The live rules ask whether a bot runs on this scope (live request and confirm).
        self._snapshot = replace(
            _snapshot(self._own, fleet_killed=self._fleet_killed), heartbeat=_heartbeat(conn, store.scope)
        )

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def commit(self, change: Change) -> None:
        store, conn, scope = self._store, self._conn, self._store.scope
        lifting = change.clear_kill_flag or (change.kill is not None and not change.kill.is_active)
        if lifting and self._fleet_killed:
            raise SafetyRefusal(
                f"The fleet kill switch is active: bot {scope}'s kill switch cannot be lifted under it; "
                "nothing was done",
                f'Deactivate the fleet kill first: nija kill deactivate --fleet --store {mask(store.url)} "<reason>"',
                code="FLEET_KILL_ACTIVE",
            )
        if change.trading is not None and store.is_fleet and change.trading.current_state not in _FLEET_STATES:
            raise SafetyRefusal(
                f"The fleet has no trading state of its own (can't move it to {change.trading.current_state}); "
                "nothing was done",
                "Pass --bot NAME to restore, reset or go live with one bot",
                code="FLEET_HAS_NO_TRADING_STATE",
            )
        if change.clear_kill_flag:
            _clear_flags(conn, scope, self._own.flag_ids)
        if change.kill is not None:
            if not isinstance(self._own.kill, KillRecord):
                rows.back_up(conn, scope, "kill", self._own.raw)
            rows.write_kill(conn, scope, self._own.kill, change.kill)
        if change.trading is not None:
            if not isinstance(self._own.trading, TradingRecord):
                rows.back_up(conn, scope, "trading", self._own.raw)
            rows.write_trading(conn, scope, self._own.trading, change.trading)
        if store.is_fleet and change.kill is not None:
            _cascade(conn, mask(store.url), change.kill)
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"change:{scope}"))


def _clear_flags(conn: Conn, scope: str, seen: tuple[int, ...]) -> None:
    """Remove exactly the flags seen when the change was decided; a flag raised meanwhile
    refuses the deactivation before anything is written."""
    present = {int(r[0]) for r in conn.execute("SELECT id FROM nija_kill_flag WHERE scope = %s", (scope,))}  # type: ignore[call-overload]
    if present - set(seen):
        raise SafetyRefusal(
            "A new kill arrived while deactivating: the kill switch stays active",
            "Find out who activated it (nija kill history) before trying again",
            code="KILL_RAISED_DURING_DEACTIVATION",
        )
    conn.execute("DELETE FROM nija_kill_flag WHERE id = ANY(%s)", (list(seen),))


def _cascade(conn: Conn, where: str, fleet_kill: KillRecord) -> None:
    bots = conn.execute("SELECT name FROM nija_scope WHERE name <> %s ORDER BY name FOR UPDATE", (FLEET,)).fetchall()
    now = fleet_kill.last_updated
    assert now is not None  # a kill record changed by the domain always has a timestamp
    for (name,) in bots:
        bot = rows.read_scope(conn, str(name), where, history=rows.TX_HISTORY)
        change = cascade.bot_change(_snapshot(bot, fleet_killed=False), fleet_kill, now)
        if change is None or change.is_empty:
            continue
        if change.kill is not None:
            rows.write_kill(conn, str(name), bot.kill, change.kill)
        if change.trading is not None:
            rows.write_trading(conn, str(name), bot.trading, change.trading)
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"change:{name}"))


def _snapshot(own: ScopeRows, *, fleet_killed: bool) -> Snapshot:
    flag = None
    if own.flag_ids:  # the ids are the flag's identity: any new raise changes what was seen
        ids = ",".join(map(str, own.flag_ids))
        flag = KillFlag(ids, KillFlagKind.ROW, "nija_kill_flag", own.first_flag)
    return Snapshot(trading=own.trading, kill=own.kill, kill_flag=bool(own.flag_ids) or fleet_killed, flag=flag)


def _heartbeat(conn: Conn, scope: str) -> Heartbeat | None:
    row = conn.execute(
        "SELECT pid, host, last_beat, started_at, stopped, run_id, dry_run_seconds, seen_nonce, live_nonce, "
        "live_refused FROM nija_heartbeat WHERE scope = %s",
        (scope,),
    ).fetchone()
    if row is None:
        return None
    pid, host, last_beat, started_at, stopped, run_id, dry_run_s, seen, live, refused = row
    return Heartbeat(
        int(pid),  # type: ignore[call-overload]
        str(host),
        last_beat,  # type: ignore[arg-type]
        started_at,  # type: ignore[arg-type]
        bool(stopped),
        str(run_id),
        float(dry_run_s),  # type: ignore[arg-type]
        str(seen),
        str(live),
        str(refused),
    )


def _not_writable(conn: Conn, store: PostgresStore) -> tuple[str, ...]:
    row = conn.execute(
        "SELECT pg_is_in_recovery() OR NOT has_table_privilege('nija_scope', 'UPDATE')"
        " OR NOT has_table_privilege('nija_transition', 'INSERT')"
    ).fetchone()
    if row and row[0]:
        return (f"{store.location}: the database is read-only for this user",)
    return ()
