"""The order gate's view of a PostgreSQL scope: a local cache kept fresh by LISTEN/NOTIFY.

A background thread holds its own connection, LISTENs on the channels of its scope, the
fleet and its account (``channels``) and re-reads the few values a permission needs when
notified, and at least every ``stale_after / 4``
seconds to confirm the view. ``check()`` reads two attributes: it answers from the cache
while the last confirmation is younger than ``stale_after``, and "halted" otherwise
(connection lost, server gone, thread stuck): fail closed until it reconnects."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from nija.domain.errors import UsageProblem
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission, decide, verifying_bot_gone
from nija.domain.records import (
    HEARTBEAT_MAX_AGE,
    Heartbeat,
    KillRecord,
    Snapshot,
    TradingRecord,
    Transition,
    Unreadable,
)
from nija.domain.states import Mode, parse_state
from nija.store import codec, kill_file
from nija.store.postgres.channels import Subscriptions
from nija.store.postgres.connect import Conn, connect, mask
from nija.store.postgres.rows import ACCOUNT_PREFIX, FLEET
from nija.store.postgres.schema import require_current

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CLOSE_POLL_S = 0.5  # the reader's longest wait for a notice (a refresh may be 15 minutes away)
DEFAULT_STALE_AFTER_S = 2.0
RECONNECT_DELAY_S = 0.2

NOT_CHECKED = Permission(False, None, "NOT_CHECKED", "the fleet database view is not confirmed yet")
KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "a kill was raised (fleet database notification)")

# Everything decide() needs, in one round trip, for each scope named: the scope's state
# and last transition, its kill record, whether any kill flag is raised (its own, the
# fleet's, its account's) or the fleet or its account kill is recorded, and its account.
# The one query of every permission view: the bot's own (below) and the host agent's
# (nija.store.agent), which asks it for all the bots of its host at once. Last, the
# database's clock at the reading: every reader ages the beat on it, not on its own host's.
PERMISSION_SQL = """
SELECT b.name, s.state, s.kill_active, t.from_state, t.to_state, t.at,
       EXISTS (SELECT 1 FROM nija_kill_flag k WHERE k.scope IN (b.name, %(fleet)s, %(prefix)s || s.account)),
       f.kill_active, f.state, s.pending_live, s.live_grant, h.run_id, h.live_nonce, h.stopped,
       a.name IS NOT NULL AND (a.kill_active IS NOT FALSE OR a.state NOT IN ('OFF', 'EMERGENCY_STOP')), s.account,
       h.last_beat, statement_timestamp()
FROM unnest(%(scopes)s::text[]) AS b(name)
JOIN nija_scope f ON f.name = %(fleet)s
LEFT JOIN nija_scope s ON s.name = b.name
LEFT JOIN nija_scope a ON a.name = %(prefix)s || s.account
LEFT JOIN nija_heartbeat h ON h.scope = b.name
LEFT JOIN LATERAL (
    SELECT from_state, to_state, at FROM nija_transition
    WHERE scope = b.name ORDER BY id DESC LIMIT 1
) t ON true
"""

Row = tuple[object, ...]
READ_CLOCK = 16  # the row's column of the database's clock at the reading (absent: an older agent's row)


def permission_rows(conn: Conn, scopes: list[str]) -> dict[str, Row]:
    """Each scope's permission row (without its name); raises if the fleet row is missing."""
    found = conn.execute(PERMISSION_SQL, {"scopes": scopes, "fleet": FLEET, "prefix": ACCOUNT_PREFIX}).fetchall()
    if scopes and not found:
        raise psycopg.DataError("the fleet row is missing: run 'nija db upgrade'")
    return {str(row[0]): tuple(row[1:]) for row in found}


def read_clock(row: Row) -> datetime | None:
    """The database's clock when the row was read, if the row carries it."""
    value = row[READ_CLOCK] if len(row) > READ_CLOCK else None
    return value if isinstance(value, datetime) else None


def without_read_clock(row: Row) -> Row:
    """The row's content: it differs from the last reading's only if something changed."""
    return row[:READ_CLOCK]


def account_scope(row: Row) -> str | None:
    """The kill scope of the account the bot trades (None: it declared none)."""
    return None if row[14] is None else ACCOUNT_PREFIX + str(row[14])


def stale_after_from_env() -> float:
    """NIJA_STALE_AFTER (seconds), else 2 s."""
    text = os.environ.get("NIJA_STALE_AFTER")
    if not text:
        return DEFAULT_STALE_AFTER_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise UsageProblem(
            f"NIJA_STALE_AFTER must be a number of seconds above 0, not {text!r}",
            "Set it to e.g. 2 (the default), or unset it",
        )
    return value


class CachedPermission:
    """A permission cached by a background reader, halted (VIEW_STALE) once its last
    confirmation is older than ``stale_after_s``: the one ``check()`` of both views."""

    stale_after_s: float
    changed_ns: int  # when the cached verdict (allowed, code) last changed: check() answers so since
    _clock: Callable[[], float]
    _confirmed_at: float
    _problem: str
    _permission: Permission

    _verifier: LiveVerifier | None
    _live_until: float = math.inf  # a reader's LIVE ends then (its bot's beat grows too old)
    # A bot's data directory: an EMERGENCY_STOP entry there denies at once, as on the JSON
    # files (invariant 10); checked first, with lstat calls, so no database read delays it.
    kill_dir: Path | None = None
    _wall: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))  # the beats' clock

    def check(self) -> Permission:
        kill_dir = self.kill_dir
        if kill_dir is not None and kill_file.exists(kill_dir):
            if self._verifier is not None:
                self._verifier.interrupt()
            return kill_file.KILLED
        now = self._clock()
        age = now - self._confirmed_at
        if age > self.stale_after_s:
            return Permission(
                False,
                None,
                "VIEW_STALE",
                f"the fleet database view is not confirmed fresh within {self.stale_after_s:g} s "
                f"({self._problem}): halted until reconnected",
            )
        permission = self._permission
        if permission.mode is Mode.LIVE and now > self._live_until:
            return verifying_bot_gone()  # crashed: nothing notifies, the next refresh may be far
        return permission

    def _decide_as_reader(self, snapshot: Snapshot, read_at: float, read_clock: datetime | None) -> None:
        """Without the bot's verifier: LIVE while the bot that verified it beats, between
        refreshes too (they come every ``stale_after / 4``, up to 15 minutes apart).
        ``read_at``: this view's clock when the reading began; ``read_clock``: the
        database's then (None: this host's wall clock stands in). The LIVE ends at most
        HEARTBEAT_MAX_AGE after the reading, whatever the bot's clock and this host's say."""
        wall = read_clock or self._wall()
        permission = decide(snapshot, now=wall)
        beat = snapshot.heartbeat
        if permission.mode is Mode.LIVE and beat is not None:
            self._live_until = read_at + beat.vouches_for(wall, HEARTBEAT_MAX_AGE).total_seconds()
        else:
            self._live_until = math.inf
        self._set(permission)

    def wait_confirmed(self, timeout_s: float) -> bool:
        """For start-up: wait until the view has been confirmed once."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._clock() - self._confirmed_at <= self.stale_after_s:
                return True
            time.sleep(0.01)
        return False

    def catch_up(self, timeout_s: float) -> bool:
        """Read your own writes: wait until a reading begun after this call is in, so a
        change this process committed a moment ago shows in ``check()`` (its NOTIFY wakes
        the reader; the periodic confirmation bounds the wait). False on timeout: the
        view then answers as it is, and ages into VIEW_STALE by itself."""
        asked = self._clock()
        deadline = time.monotonic() + timeout_s
        while self._confirmed_at < asked:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def _set(self, permission: Permission) -> None:
        # Stamped on a change of verdict only: the row read after a pushed kill denies with
        # the same code (another message), and must not move the instant refusing began.
        if (permission.allowed, permission.code) != (self._permission.allowed, self._permission.code):
            self.changed_ns = time.time_ns()
        self._permission = permission


class PostgresPermissionView(CachedPermission):
    def __init__(
        self,
        url: str,
        scope: str,
        *,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        verifier: LiveVerifier | None = None,
    ) -> None:
        self.url = url
        self._verifier = verifier
        self.scope = scope
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._permission = NOT_CHECKED
        self.changed_ns = time.time_ns()  # when the cached verdict last changed (diagnostics, benchmarks)
        self._confirmed_at = float("-inf")
        self._problem = "not connected yet"
        self._account_scope: str | None = None  # learnt on each refresh
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"nija-view-{scope}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.stale_after_s + 1)

    # -- the background thread -----------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            conn: Conn | None = None
            try:
                conn = connect(self.url, application_name=f"nija-view:{self.scope}")
                require_current(conn, mask(self.url))
                subscriptions = Subscriptions()
                self._refresh(conn, subscriptions)
                self._listen(conn, subscriptions)
            except Exception as exc:  # noqa: BLE001 - any failure halts the view until it reconnects
                self._confirmed_at = float("-inf")
                self._set(NOT_CHECKED)
                self._problem = f"connection lost: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
            finally:
                if conn is not None:
                    conn.close()
            self._stop.wait(RECONNECT_DELAY_S)

    def _listen(self, conn: Conn, subscriptions: Subscriptions) -> None:
        """Re-read on a notification about this scope, the fleet or its account (the
        channels it LISTENs on), and at least every ``stale_after / 4`` to confirm the view."""
        tick = self.stale_after_s / 4
        mine = {self.scope, FLEET}
        next_refresh = self._clock() + tick
        while not self._stop.is_set():
            relevant = False
            wait = min(max(0.0, next_refresh - self._clock()), CLOSE_POLL_S)  # close() is heard within this
            for note in conn.notifies(timeout=wait, stop_after=1):
                kind, _, scope = note.payload.partition(":")
                if scope in mine or scope == self._account_scope:
                    relevant = True
                    if kind == "kill":
                        self._set(KILLED)  # deny first, then read the details
                        if self._verifier is not None:
                            self._verifier.interrupt()
            if relevant or self._clock() >= next_refresh:
                self._refresh(conn, subscriptions)
                next_refresh = self._clock() + tick

    def _refresh(self, conn: Conn, subscriptions: Subscriptions) -> None:
        while True:
            # LISTEN before the read; an account learnt from the row (declared since the
            # last read) is LISTENed on, then read again: its kill is never missed.
            account = [] if self._account_scope is None else [self._account_scope]
            subscriptions.sync(conn, [self.scope, FLEET, *account])
            started = self._clock()
            row = permission_rows(conn, [self.scope])[self.scope]
            learnt = account_scope(row)
            if learnt == self._account_scope:
                break
            self._account_scope = learnt
        if self._verifier is None:
            self._decide_as_reader(snapshot_from_row(row), started, read_clock(row))
        else:
            with self._verifier.reading:
                self._set(decide(snapshot_from_row(row), self._verifier))
        self._confirmed_at = started
        self._problem = "connected"


def snapshot_from_row(row: Row) -> Snapshot:
    (state, kill_active, from_state, to_state, at, flagged, fleet_active, fleet_state) = row[:8]
    pending, grant, run_id, live_nonce, stopped, account_killed = row[8:14]
    # The fleet row only ever holds OFF or EMERGENCY_STOP: anything else was edited by hand.
    fleet_ok = isinstance(fleet_active, bool) and fleet_state in ("OFF", "EMERGENCY_STOP")
    kill_flag = bool(flagged) or bool(fleet_active) or not fleet_ok or account_killed is not False
    if state is None:  # the bot has no row yet: OFF, no history
        return Snapshot(kill_flag=kill_flag)
    try:
        history: tuple[Transition, ...] = ()
        if from_state is not None:
            last = Transition(parse_state(str(from_state)), parse_state(str(to_state)), "", at)  # type: ignore[arg-type]
            history = (last,)
        trading: TradingRecord | Unreadable = TradingRecord(
            parse_state(str(state)),
            history,
            pending_live=codec.pending_from(pending) if isinstance(pending, dict) else None,
            live_grant=codec.grant_from(grant) if isinstance(grant, dict) else None,
        )
    except ValueError as exc:
        trading = Unreadable("trading state", str(exc))
    kill: KillRecord | Unreadable = (
        KillRecord(kill_active) if isinstance(kill_active, bool) else Unreadable("kill switch", "not a boolean")
    )
    beat = None
    if run_id is not None:  # only what the verdict of a reader without a verifier needs
        # Its age, too (a crashed bot's beat only grows old); a row without it (an older
        # host agent's) reads as an old beat: never live for a reader.
        last_beat = row[15] if len(row) > 15 and isinstance(row[15], datetime) else _EPOCH
        beat = Heartbeat(0, "", last_beat, _EPOCH, bool(stopped), str(run_id), live_nonce=str(live_nonce))
    return Snapshot(trading=trading, kill=kill, kill_flag=kill_flag, heartbeat=beat)
