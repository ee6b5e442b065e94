"""``nija agent``: the host's one connection to the fleet database, shared by its bots.

One thread, one ``selectors`` loop over the listening socket, the bots' sockets and the
database connection. It LISTENs on the fleet channel; on a notification about a bot it
serves (or the fleet) it first pushes ``kill`` to the bots concerned when it is a kill
(one line, before any read), then re-reads the permission rows of all its bots in one
query and pushes each bot its row, as it does at least every ``stale_after / 4`` anyway,
so every bot's view stays confirmed. Notifications that arrive during a query are taken
right after it, not at the next wake-up. It writes its bots' heartbeats (with the
re-read) and their account reports (``reports``) in batches. A lost connection pushes
"not confirmed" to every bot at once (they deny) and reconnects every 0.2 s. A bot that
does not read what is pushed (frozen) is dropped rather than allowed to hold the others
up: it sees the close and reconnects."""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from nija.domain.errors import StorageProblem
from nija.domain.records import Heartbeat
from nija.store.agent import listener, reports, wire
from nija.store.postgres.connect import Conn, connect, mask
from nija.store.postgres.rows import FLEET
from nija.store.postgres.schema import require_current
from nija.store.postgres.store import write_heartbeats
from nija.store.postgres.view import CHANNEL, DEFAULT_STALE_AFTER_S, account_scope, permission_rows
from nija.store.selection import valid_bot_name

log = logging.getLogger(__name__)
RECONNECT_DELAY_S = 0.2
LOCK_TIMEOUT_MS = 250  # a report or beat waiting longer for a row lock is refused, not waited for
APPLICATION_NAME = "nija-agent"


@dataclass(eq=False)
class _Client:
    sock: socket.socket
    inbox: bytes = b""
    bot: str | None = None  # set once it asked to watch
    reporting: bool = False  # its account report waits for the next batch (answered after the commit)
    last_row: tuple[object, ...] | None = field(default=None, repr=False)


class HostAgent:
    def __init__(
        self,
        url: str,
        socket_path: Path,
        *,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        clock: Callable[[], float] = time.monotonic,  # CLOCK_MONOTONIC: shared by the host's processes
    ) -> None:
        self.url = url
        self.path = socket_path
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._sel = selectors.DefaultSelector()
        self._clients: dict[socket.socket, _Client] = {}
        self._conn: Conn | None = None
        self._fd = -1
        self._confirmed: float | None = None
        self._problem = "not connected yet"
        self._seq = 0
        self._beats: dict[str, Heartbeat] = {}  # accepted, written with the next re-read (one commit)
        self._reports: list[tuple[_Client, wire.Report]] = []  # written together, answered after the commit
        self._reports_due = float("inf")
        self._dirty = False  # a notification about a served bot arrived during a query: re-read now
        self._next_connect = 0.0
        self._next_refresh = 0.0
        self._listener: socket.socket | None = None
        self.stop = threading.Event()

    # -- life cycle ------------------------------------------------------------------
    def bind(self) -> None:
        """Listen on the socket path; a socket nobody answers on (a dead agent's) is replaced."""
        self._listener = listener.bind(self.path)
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")

    def close(self) -> None:
        for client in list(self._clients.values()):
            self._drop(client)
        if self._listener is not None:
            self._sel.unregister(self._listener)
            self._listener.close()
            with contextlib.suppress(OSError):
                self.path.unlink()
        self._disconnect("the host agent stopped")

    def serve_forever(self) -> None:
        if self._listener is None:
            self.bind()
        try:
            while not self.stop.is_set():
                try:
                    self.step()
                except Exception as exc:  # an agent that dies leaves its bots blind until it is restarted
                    log.exception("unexpected error; reconnecting")
                    self._disconnect(f"the host agent failed: {type(exc).__name__}: {exc}")
        finally:
            self.close()

    # -- one turn of the loop ------------------------------------------------------------
    def step(self) -> None:
        now = self._clock()
        due = min(self._next_refresh, self._reports_due) if self._conn is not None else self._next_connect
        timeout = 0.0 if self._dirty else min(max(0.0, due - now), 0.25)  # 0.25: notice stop() promptly
        relevant, self._dirty = self._dirty, False
        ready = self._sel.select(timeout)
        # The database first: a kill is pushed before any bot's request is looked at.
        relevant |= self._drain_notifications()
        for key, _ in ready:
            if key.data == "listen":
                self._accept()
            elif key.data == "client" and (client := self._clients.get(key.fileobj)) is not None:  # type: ignore[call-overload]
                relevant |= self._read(client)  # (None: dropped earlier in this turn)
        if self._conn is None and self._clock() >= self._next_connect:
            self._connect()
            relevant = True
        if self._conn is not None and (relevant or self._clock() >= self._next_refresh):
            self._refresh()
        if self._conn is not None and self._reports and self._clock() >= self._reports_due:
            self._write_reports()
        # Notifications that arrived during those queries wait in psycopg's backlog, where
        # select() cannot see them: take them now (a kill is pushed at once).
        self._dirty = self._drain_notifications()

    # -- the database ----------------------------------------------------------------
    def _connect(self) -> None:
        try:
            conn = connect(self.url, application_name=APPLICATION_NAME)
            require_current(conn, mask(self.url))
            # One loop serves every bot of the host: a row lock held elsewhere (an operator's
            # open psql session) may fail one report or beat, never stall the kills' push.
            conn.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
            conn.execute(f"SET statement_timeout = {int(self.stale_after_s * 500)}")
            conn.execute(f"LISTEN {CHANNEL}")
        except (StorageProblem, psycopg.Error) as exc:
            problem = f"connection lost: {exc.message if isinstance(exc, StorageProblem) else _first_line(exc)}"
            if problem != self._problem:
                log.warning("fleet database: %s; retrying every %g s", problem, RECONNECT_DELAY_S)
            self._problem = problem
            self._next_connect = self._clock() + RECONNECT_DELAY_S
            return
        self._conn = conn
        self._fd = conn.fileno()  # kept: a broken connection may no longer tell its fd
        self._sel.register(self._fd, selectors.EVENT_READ, "db")
        log.info("connected to %s", mask(self.url))

    def _disconnect(self, problem: str) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._sel.unregister(self._fd)
            conn.close()
        was_confirmed = self._confirmed is not None
        self._confirmed = None
        self._problem = problem
        self._next_connect = self._clock() + RECONNECT_DELAY_S
        if was_confirmed:
            log.warning("fleet database: %s", problem)
        pending, self._reports, self._reports_due = self._reports, [], float("inf")
        self._fail_reports(pending, problem)  # never answered "written" without a commit
        self._push_all(row=False)  # every bot denies now, not after its freshness window

    def _drain_notifications(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        served = self._served()
        relevant = False
        try:
            for note in conn.notifies(timeout=0):
                kind, _, scope = note.payload.partition(":")
                if concerns(scope, served):
                    relevant = True
                    if kind == "kill":
                        self._push_kill(scope)
        except psycopg.Error as exc:
            self._disconnect(f"connection lost: {_first_line(exc)}")
            return False
        return relevant

    def _refresh(self) -> None:
        assert self._conn is not None
        started = self._clock()
        try:
            found = permission_rows(self._conn, sorted(self._served()))
        except psycopg.Error as exc:
            self._disconnect(f"connection lost: {_first_line(exc)}")
            return
        self._confirmed = started
        self._problem = "connected"
        self._next_refresh = started + self.stale_after_s / 4
        for client in list(self._clients.values()):
            if client.bot is not None:
                client.last_row = found.get(client.bot)
        self._push_all(row=True)
        self._write_beats()  # after the push: the bots' answers never wait for a write

    # -- the bots ----------------------------------------------------------------------
    def _served(self) -> set[str]:
        return {c.bot for c in self._clients.values() if c.bot is not None}

    def _accept(self) -> None:
        assert self._listener is not None
        for sock in listener.accept(self._listener):
            self._clients[sock] = _Client(sock)
            self._sel.register(sock, selectors.EVENT_READ, "client")

    def _read(self, client: _Client) -> bool:
        """True when a new bot started watching (its first row is due now)."""
        try:
            data = client.sock.recv(wire.MAX_LINE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data or client.bot is not None or client.reporting:  # one request each: more is misuse
            self._drop(client)
            return False
        client.inbox += data
        if b"\n" not in client.inbox:
            if len(client.inbox) > wire.MAX_LINE:
                self._drop(client)
            return False
        line = client.inbox.split(b"\n", 1)[0]
        try:
            request = json.loads(line)
            op, bot = request["op"], request["bot"]
            if not isinstance(bot, str) or not valid_bot_name(bot):
                raise ValueError(f"invalid bot name {bot!r}")
        except (ValueError, KeyError, TypeError) as exc:
            self._answer(client, {"ok": False, "error": f"bad request: {exc}"})
            return False
        if op == "watch":
            client.bot = bot
            return True
        if op == "beat":
            self._answer(client, self._beat(bot, request.get("heartbeat")))
            return False
        if op == "report":
            self._report(client, bot, request)
            return False
        self._answer(client, {"ok": False, "error": f"unknown op {op!r}"})
        return False

    def _beat(self, bot: str, body: object) -> dict[str, object]:
        """Accept the beat now (the bot learns at once if the agent cannot write it); it is
        written with the next re-read, every bot's beats in one commit, so 20 bots beating
        every second cost the database two commits a second, not twenty."""
        try:
            beat = wire.heartbeat_from(body)
        except (ValueError, KeyError, TypeError) as exc:
            return {"ok": False, "error": f"bad heartbeat: {exc}"}
        if self._conn is None or self._confirmed is None:
            return {"ok": False, "error": f"the host agent has no database connection ({self._problem})"}
        self._beats[bot] = beat
        return {"ok": True}

    def _report(self, client: _Client, bot: str, request: dict[str, object]) -> None:
        """Queue a live bot's account report for the next batch (within REPORT_WAIT_S); the
        bot is answered after the commit, with its account's figures as the database summed them."""
        if self._conn is None or self._confirmed is None:
            self._answer(client, {"ok": False, "error": f"the host agent has no database connection ({self._problem})"})
            return
        try:
            report = wire.report_from(bot, request)
        except (ValueError, KeyError, TypeError) as exc:
            self._answer(client, {"ok": False, "error": f"bad report: {exc}"})
            return
        client.reporting = True
        self._reports.append((client, report))
        self._reports_due = min(self._reports_due, self._clock() + reports.REPORT_WAIT_S)

    def _write_reports(self) -> None:
        # Sorted by bot: every batch takes its rows' locks in the same order.
        batch = sorted(((c, r) for c, r in self._reports if c.sock in self._clients), key=lambda cr: cr[1].bot)
        self._reports, self._reports_due = [], float("inf")
        if not batch or self._conn is None:
            self._fail_reports(batch, self._problem)
            return
        replies, failure = reports.write_reports(self._conn, [r for _, r in batch])
        for (client, _), reply in zip(batch, replies, strict=True):
            self._answer(client, reply)
        if failure and (self._conn.broken or self._conn.closed):
            self._disconnect(f"connection lost: {failure}")

    def _fail_reports(self, batch: list[tuple[_Client, wire.Report]], problem: str) -> None:
        for client, _ in batch:
            self._answer(client, {"ok": False, "error": f"the account report was not written ({problem})"})

    def _write_beats(self) -> None:
        beats, self._beats = self._beats, {}
        if not beats or self._conn is None:
            return
        try:
            write_heartbeats(self._conn, beats)
        except psycopg.Error as exc:
            log.warning("%d heartbeat(s) not written: %s", len(beats), _first_line(exc))
            if isinstance(exc, psycopg.OperationalError):
                self._disconnect(f"connection lost: {_first_line(exc)}")

    def _answer(self, client: _Client, reply: dict[str, object]) -> None:
        with contextlib.suppress(OSError):
            client.sock.send(json.dumps(reply).encode() + b"\n")  # a few bytes: fits any buffer
        self._drop(client)

    def _watchers(self) -> list[_Client]:
        return [c for c in self._clients.values() if c.bot is not None]

    def _push_kill(self, scope: str) -> None:
        """Deny first, then re-read: the fleet's kill, a bot's own, or its account's (the
        account a bot trades is in its last row). One line, encoded once, for all of them."""
        if scope == FLEET:
            targets = self._watchers()
        else:
            targets = [
                c
                for c in self._watchers()
                if scope == c.bot or (c.last_row is not None and scope == account_scope(c.last_row))
            ]
        if targets:
            self._seq += 1
            data = wire.encode_update(wire.Update(self._seq, self._confirmed, self._problem, None, kill=True))
            for client in targets:
                self._write(client, data)

    def _push_all(self, *, row: bool) -> None:
        if not row:  # "not confirmed": the same line for every bot
            self._seq += 1
            data = wire.encode_update(wire.Update(self._seq, None, self._problem, None))
            for client in self._watchers():
                self._write(client, data)
            return
        for client in self._watchers():
            if client.last_row is None:
                continue  # nothing to say yet (the bot's first row comes with the next read)
            self._seq += 1
            self._write(
                client, wire.encode_update(wire.Update(self._seq, self._confirmed, self._problem, client.last_row))
            )

    def _write(self, client: _Client, data: bytes) -> None:
        try:
            sent = client.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(client)
            return
        if sent != len(data):  # its buffer is full: it has stopped reading
            log.warning("dropping bot %s: it does not read its updates", client.bot)
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        self._clients.pop(client.sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._sel.unregister(client.sock)
        client.sock.close()


def concerns(scope: str, served: set[str]) -> bool:
    """Whether a notification about ``scope`` calls for a re-read: the fleet, a bot of this
    host, or a scope that is no bot at all (an exchange account's kill scope, or any kill
    scope PERMISSION_SQL composes in later). Only another host's bots are ignored."""
    return scope == FLEET or scope in served or not valid_bot_name(scope)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
