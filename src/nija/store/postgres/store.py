"""The PostgreSQL store: one scope (the fleet or a bot) of a fleet database.

A bot's snapshot composes the fleet in: its kill flag is raised when the fleet's flag is
raised or the fleet kill is recorded active, so every domain rule (permission, refusals,
diagnosis) sees the fleet kill without knowing about fleets. Transactions lock the fleet
row (shared) and then the scope row (exclusive), always in that order; the fleet's own
transactions lock every bot row, so a fleet kill and its cascade are one commit.

Kill flags are rows inserted by one short transaction on a connection of their own: an
insert never waits for the row locks transitions hold, and NOTIFY tells every bot.

A bot's scope may also watch its data directory's kill file (``kill_dir``, set by
``nija.assembly`` for every front end): any EMERGENCY_STOP entry there is composed into
its snapshots as a kill flag (recorded on the scope like any bare flag) and denies in its
permission views before they look at the database (invariant 10)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg.pq import TransactionStatus

from nija.audit import fleet as fleet_audit
from nija.audit.chain import AuditRecord, BadLine
from nija.domain.account_risk import AccountFigures
from nija.domain.errors import StorageProblem, UsageProblem
from nija.domain.events import Event
from nija.domain.live_auth import LiveVerifier
from nija.domain.records import (
    Heartbeat,
    Snapshot,
)
from nija.domain.transitions import Who
from nija.store import kill_file
from nija.store.postgres import accounts, channels, rows
from nija.store.postgres.connect import Conn, connect, database_errors, mask
from nija.store.postgres.feed import PostgresChangeFeed
from nija.store.postgres.rows import ACCOUNT_PREFIX, FLEET, is_account_scope
from nija.store.postgres.schema import require_current
from nija.store.postgres.transaction import PostgresTransaction, compose, read_heartbeat
from nija.store.postgres.view import CachedPermission, PostgresPermissionView, stale_after_from_env

_PROBE_AFTER_S = 1.0


class PostgresStore:
    def __init__(
        self, url: str, *, bot: str | None = None, stale_after_s: float | None = None, kill_dir: Path | None = None
    ) -> None:
        self.url = url
        self.scope = bot or FLEET
        self.kill_dir: Path | None = None
        self.stale_after_s = stale_after_s if stale_after_s is not None else stale_after_from_env()
        self._conn: Conn | None = None
        self._used = 0.0  # monotonic time the connection was last handed out
        self._flag_conn: Conn | None = None
        self._lock = threading.RLock()
        self._flag_lock = threading.Lock()
        self._view: PostgresPermissionView | None = None
        self._view_lock = threading.Lock()
        self._open: PostgresTransaction | None = None  # the transaction in progress, for the audit
        if kill_dir is not None:
            self.watch_kill_file(kill_dir)

    @property
    def is_fleet(self) -> bool:
        return self.scope == FLEET

    @property
    def is_account(self) -> bool:
        return is_account_scope(self.scope)

    @property
    def is_group(self) -> bool:
        """The fleet or an account: a kill scope over bots, with no trading of its own."""
        return self.is_fleet or self.is_account

    def watch_kill_file(self, directory: Path) -> None:
        """Obey ``directory``'s EMERGENCY_STOP entry as this bot's kill: in every snapshot
        and every permission view, the shared one already made included. The fleet's and
        accounts' scopes have no bot's directory: for them this does nothing."""
        if self.is_group:
            return
        self.kill_dir = directory
        for view in self._views():
            view.kill_dir = directory

    def _views(self) -> list[CachedPermission]:
        return [] if self._view is None else [self._view]

    def changes(self) -> PostgresChangeFeed:
        """Wakes on every commit and kill of this scope and of the fleet (NOTIFY)."""
        return PostgresChangeFeed(self.url, self.scope)

    @property
    def location(self) -> str:
        if self.is_account:
            return f"{mask(self.url)} (account {self.scope.removeprefix(ACCOUNT_PREFIX)})"
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
        return kill_file.composed(self.load_scope(self.scope), self.kill_dir)

    def load_scope(self, scope: str) -> Snapshot:
        """Another scope's snapshot over this store's connection (the fleet overview)."""
        with self._lock, database_errors(self.url):
            conn = self._connection()
            # One snapshot of the database for all the queries below.
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                snap = self._compose(conn, scope)
                return replace(snap, heartbeat=read_heartbeat(conn, scope), not_writable=_not_writable(conn, self))

    def scopes(self) -> tuple[str, ...]:
        """Every bot that has ever been recorded, by name."""
        with self._lock, database_errors(self.url):
            found = self._connection().execute("SELECT name FROM nija_scope WHERE name NOT LIKE '@%%' ORDER BY name")
            return tuple(str(r[0]) for r in found)

    def _compose(self, conn: Conn, scope: str) -> Snapshot:
        where = mask(self.url)
        own = rows.read_scope(conn, scope, where)
        if scope == FLEET or is_account_scope(scope):
            return compose(own, fleet_killed=False)
        above = rows.fleet_killed(conn, share_lock=False) or rows.account_killed(
            conn, rows.bot_account(conn, scope), share_lock=False
        )
        return compose(own, fleet_killed=above)

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
                tx = PostgresTransaction(self, conn)
                self._open = tx
                try:
                    yield tx
                    # Last, after every row lock the change took: the chain head is held
                    # only for these inserts and the commit. A failure rolls the change back.
                    fleet_audit.append(conn, tx.audit_items)
                finally:
                    self._open = None

    def audit_in_transaction(self, events: Sequence[Event]) -> None:
        """Record ``events`` (of this scope) in the transaction in progress, with its change."""
        tx = self._open
        if tx is None:
            raise StorageProblem("No fleet transaction is open to record the audit in", "Report this bug")
        tx.audit_items.extend(fleet_audit.Item(self.scope, e) for e in events)

    def append_audit(self, events: Sequence[Event]) -> None:
        """Record events that belong to no change (a live request's details, a kill
        receipt) in a transaction of their own."""
        with self._lock, database_errors(self.url):
            conn = self._connection()
            with conn.transaction():
                fleet_audit.append(conn, [fleet_audit.Item(self.scope, e) for e in events])

    # -- accounts (domain/account_risk.py) ------------------------------------------
    def accounts(self) -> tuple[str, ...]:
        """Every exchange account a bot declared, that has limits or was ever killed."""
        with self._lock, database_errors(self.url):
            found = self._connection().execute(
                "SELECT account FROM nija_scope WHERE account IS NOT NULL UNION SELECT name FROM nija_account"
                " UNION SELECT substr(name, %s) FROM nija_scope WHERE name LIKE '@account:%%' ORDER BY 1",
                (len(ACCOUNT_PREFIX) + 1,),
            )
            return tuple(str(r[0]) for r in found)

    def report_account(
        self, account: str, day: date, figures: dict[str, float | None], now: datetime
    ) -> AccountFigures:
        """This bot's figures for ``day``, then its account's, summed by the database, in one
        transaction (so the sum includes this report)."""
        with self._lock, database_errors(self.url):
            conn = self._connection()
            with conn.transaction():
                accounts.declare(conn, self.scope, account)
                accounts.put_report(conn, self.scope, account, day, figures, now)
                return accounts.figures(conn, account, day)

    def declared_account(self) -> str | None:
        """The exchange account this bot declared (None: none yet)."""
        with self._lock, database_errors(self.url):
            return rows.bot_account(self._connection(), self.scope)

    def declare_account(self, account: str) -> bool:
        with self._lock, database_errors(self.url):
            conn = self._connection()
            with conn.transaction():
                return accounts.declare(conn, self.scope, account)

    def set_account_limits(
        self, account: str, daily_loss: float | None, gross_exposure: float | None, event: Event
    ) -> None:
        """Set (or clear, with None) an account's limits, audited in the same transaction."""
        with self._lock, database_errors(self.url):
            conn = self._connection()
            with conn.transaction():
                accounts.set_limits(conn, account, daily_loss, gross_exposure, event.actor, event.timestamp)
                fleet_audit.append(conn, [fleet_audit.Item(rows.account_scope(account), event)])

    def account_figures(self, account: str, day: date) -> AccountFigures:
        with self._lock, database_errors(self.url):
            return accounts.figures(self._connection(), account, day)

    def verify_audit(self) -> fleet_audit.FleetVerdict:
        with self._lock, database_errors(self.url):
            return fleet_audit.verify(self._connection())

    def audit_records(self, *, scope: str | None = None, since: datetime | None = None) -> list[AuditRecord | BadLine]:
        with self._lock, database_errors(self.url):
            return list(fleet_audit.records(self._connection(), scope=scope, since=since))

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        if self._flag_on_idle_connection(reason, who, now):
            return
        with self._flag_lock, database_errors(self.url):
            try:
                self._insert_flag(reason, who, now)
            except psycopg.OperationalError:
                # A long-lived process (API, control center) may hold a connection the
                # server dropped since; a kill deserves one retry on a fresh one.
                self._flag_conn = None
                self._insert_flag(reason, who, now)

    def _flag_on_idle_connection(self, reason: str, who: Who, now: datetime) -> bool:
        """The store's own connection carries the flag when it is open and idle: a kill from
        a process that has read the state (the control center, the API, a running bot)
        opens no connection on its way, which under load costs more than the rest of the
        kill. Never waited for: one in a transaction, or in another thread's use, leaves it
        to the kill's own connection."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            conn = self._conn
            if conn is None or conn.closed or conn.broken or conn.info.transaction_status is not TransactionStatus.IDLE:
                return False
            try:
                _insert_flag(conn, self.scope, reason, who, now)
            except psycopg.Error:
                # Dropped by the server meanwhile, or refused (a read-only failover, a missing
                # grant): the kill's own connection tries again, and its errors are mapped
                # (the bots are then told directly and the message says where the kill holds).
                conn.close()
                return False
            return True
        finally:
            self._lock.release()

    def _insert_flag(self, reason: str, who: Who, now: datetime) -> None:
        if self._flag_conn is None or self._flag_conn.closed or self._flag_conn.broken:
            self._flag_conn = connect(self.url, application_name="nija-kill")
        _insert_flag(self._flag_conn, self.scope, reason, who, now)

    def permission_view(self, verifier: LiveVerifier | None = None) -> PostgresPermissionView:
        """One view per store (a thread and a connection): asking again returns the same one,
        so a gate that calls ``permission_view().check()`` per order stays cheap. A view
        with the running bot's verifier is its own (the caller keeps it)."""
        if verifier is not None:
            view = PostgresPermissionView(self.url, self.scope, stale_after_s=self.stale_after_s, verifier=verifier)
            view.kill_dir = self.kill_dir
            return view
        with self._view_lock:
            if self._view is None:
                self._view = PostgresPermissionView(self.url, self.scope, stale_after_s=self.stale_after_s)
                self._view.kill_dir = self.kill_dir
            return self._view

    def beat(self, heartbeat: Heartbeat) -> None:
        with self._lock, database_errors(self.url):
            write_heartbeat(self._connection(), self.scope, heartbeat)

    def release(self) -> None:
        """Close the store's connections (not its view): a bot served by the host agent
        holds none between its rare writes. The next use connects again."""
        with self._lock, self._flag_lock:
            for conn in (self._conn, self._flag_conn):
                if conn is not None:
                    conn.close()
            self._conn = self._flag_conn = None


HEARTBEAT_SQL = (
    "INSERT INTO nija_heartbeat (scope, pid, host, last_beat, started_at, stopped, run_id, "
    "dry_run_seconds, seen_nonce, live_nonce, live_refused) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (scope) DO UPDATE SET "
    "pid = excluded.pid, host = excluded.host, last_beat = excluded.last_beat, "
    "started_at = excluded.started_at, stopped = excluded.stopped, run_id = excluded.run_id, "
    "dry_run_seconds = excluded.dry_run_seconds, seen_nonce = excluded.seen_nonce, "
    "live_nonce = excluded.live_nonce, live_refused = excluded.live_refused"
)


def heartbeat_params(scope: str, heartbeat: Heartbeat) -> tuple[object, ...]:
    return (
        scope,
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
    )


def write_heartbeat(conn: Conn, scope: str, heartbeat: Heartbeat) -> None:
    conn.execute(HEARTBEAT_SQL, heartbeat_params(scope, heartbeat))


def write_heartbeats(conn: Conn, beats: dict[str, Heartbeat]) -> None:
    """Many bots' beats in one transaction (one commit): the host agent's batch."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(HEARTBEAT_SQL, [heartbeat_params(scope, beat) for scope, beat in sorted(beats.items())])


def _insert_flag(conn: Conn, scope: str, reason: str, who: Who, now: datetime) -> None:
    with conn.transaction():
        conn.execute(
            "INSERT INTO nija_kill_flag (scope, reason, actor, source, raised_at) VALUES (%s, %s, %s, %s, %s)",
            (scope, reason, who.actor, who.source, now),
        )
        channels.notify(conn, "kill", scope)


def _not_writable(conn: Conn, store: PostgresStore) -> tuple[str, ...]:
    row = conn.execute(
        "SELECT pg_is_in_recovery() OR NOT has_table_privilege('nija_scope', 'UPDATE')"
        " OR NOT has_table_privilege('nija_transition', 'INSERT')"
    ).fetchone()
    if row and row[0]:
        return (f"{store.location}: the database is read-only for this user",)
    return ()
