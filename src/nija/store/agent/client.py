"""A bot's side of the host agent: its permission view (and change feed) and heartbeats.

``AgentPermissionView.check()`` is the same two attribute reads as the view with its own
connection, and ages the same way: the agent stamps each row with the CLOCK_MONOTONIC
time its read was confirmed, so the answer is ``VIEW_STALE`` once that is older than
``stale_after`` whatever the cause (the agent SIGKILLed or frozen, its connection lost,
this bot's reader stuck). A closed socket halts at once; the view reconnects every 0.2 s.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nija.domain.account_risk import AccountFigures
from nija.domain.codes import ErrorCode
from nija.domain.errors import SafetyRefusal, StorageUnavailable
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import decide
from nija.domain.records import Heartbeat, Snapshot
from nija.store.agent import wire
from nija.store.changes import Signal
from nija.store.postgres.view import (
    KILLED,
    NOT_CHECKED,
    CachedPermission,
    read_clock,
    snapshot_from_row,
    without_read_clock,
)

RECONNECT_DELAY_S = 0.2
BEAT_TIMEOUT_S = 2.0
_CLOCK_SLACK_S = 0.05  # a confirmation "from the future" means another clock: not trusted


class AgentPermissionView(CachedPermission):
    def __init__(
        self,
        socket_path: Path,
        bot: str,
        *,
        stale_after_s: float,
        clock: Callable[[], float] = time.monotonic,
        verifier: LiveVerifier | None = None,
        on_update: Callable[[], None] | None = None,
    ) -> None:
        self.path = socket_path
        self._on_update = on_update  # the store's idle-connection release, on the agent's rhythm
        self.scope = bot
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._verifier = verifier
        self._permission = NOT_CHECKED
        self._confirmed_at = float("-inf")
        self._problem = "the host agent is not connected yet"
        self.changed_ns = time.time_ns()  # when the cached verdict last changed (diagnostics, benchmarks)
        self.signal = Signal()  # every new answer or row, and every (dis)connection
        self._last: tuple[object, ...] | None = None
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name=f"nija-agent-view-{bot}", daemon=True)
        self._thread.start()

    @property
    def problem(self) -> str:
        return self._problem

    def close(self) -> None:
        self._stop.set()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=self.stale_after_s + 1)

    # -- the reader thread -------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    self._sock = sock
                    sock.settimeout(self.stale_after_s)  # wake to notice stop(); freshness ages anyway
                    sock.connect(str(self.path))
                    sock.sendall(wire.watch_request(self.scope))
                    self._read(sock)
                problem = f"the host agent at {self.path} closed the connection"
            except (OSError, ValueError) as exc:
                problem = f"the host agent at {self.path} is unreachable: {exc}"
            self._sock = None
            self._halt(problem)
            self._stop.wait(RECONNECT_DELAY_S)

    def _read(self, sock: socket.socket) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = sock.recv(wire.MAX_LINE)
            except TimeoutError:
                continue
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                self._apply(wire.decode_update(line))
            if len(buffer) > wire.MAX_LINE:
                raise ValueError("an update longer than any the agent sends")

    def _apply(self, update: wire.Update) -> None:
        if update.kill:
            self._set(KILLED)  # deny first; the row that says why follows
            if self._verifier is not None:
                self._verifier.interrupt()
            self.signal.notify()
            return
        if update.confirmed is None or update.row is None:
            self._halt(f"through the host agent: {update.problem or 'not confirmed'}")
            return
        if update.confirmed > self._clock() + _CLOCK_SLACK_S:
            self._halt("the host agent's clock is not this host's CLOCK_MONOTONIC (another time namespace?)")
            return
        snapshot: Snapshot = snapshot_from_row(update.row)
        if self._verifier is None:
            self._decide_as_reader(snapshot, update.confirmed, read_clock(update.row))
        else:
            with self._verifier.reading:
                self._set(decide(snapshot, self._verifier))
        fresh = self._confirmed_at == float("-inf")
        self._confirmed_at = update.confirmed
        if self._on_update is not None:
            self._on_update()
        self._problem = "connected through the host agent"
        if fresh or without_read_clock(update.row) != self._last:
            self._last = without_read_clock(update.row)
            self.signal.notify()

    def _halt(self, problem: str) -> None:
        self._confirmed_at = float("-inf")
        self._set(NOT_CHECKED)
        self._problem = problem
        self._last = None
        if self._verifier is not None:
            self._verifier.interrupt()
        self.signal.notify()


def send_beat(socket_path: Path, bot: str, beat: Heartbeat, *, timeout_s: float = BEAT_TIMEOUT_S) -> None:
    """Hand the beat to the agent (it writes it with its next re-read); StorageUnavailable
    (exit 4) if the agent is unreachable or has no database connection."""
    _ask(socket_path, wire.beat_request(bot, beat), f"The heartbeat of bot {bot} was not written", timeout_s)


def send_report(socket_path: Path, report: wire.Report, *, timeout_s: float = BEAT_TIMEOUT_S) -> AccountFigures:
    """The bot's account report through the agent; its account's figures, summed by the
    database in the commit that wrote this report. StorageUnavailable when it was not
    written (the agent unreachable, without a database, or silent past ``timeout_s``): the
    bot's last written figures keep counting, never zero; SafetyRefusal as the database
    refused it (a bot never leaves an account under its kill)."""
    what = f"The account report of bot {report.bot} was not written"
    answer = _ask(socket_path, wire.report_request(report), what, timeout_s)
    try:
        return wire.figures_from(answer.get("account"))
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageUnavailable(f"{what}: the host agent's answer cannot be read ({exc})", _CHECK_AGENT) from exc


_CHECK_AGENT = "Check the host agent (systemctl status nija-agent; journalctl -u nija-agent)"


def _ask(socket_path: Path, request: bytes, what: str, timeout_s: float) -> dict[str, object]:
    """One request, one answer line; raises unless the answer says ``ok``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(socket_path))
            sock.sendall(request)
            reply = b""
            while b"\n" not in reply and len(reply) < wire.MAX_LINE:
                chunk = sock.recv(wire.MAX_LINE)
                if not chunk:
                    break
                reply += chunk
        answer = json.loads(reply.split(b"\n", 1)[0] or b"{}")
    except (OSError, ValueError) as exc:
        answer = {"ok": False, "error": f"the host agent at {socket_path} is unreachable: {exc}"}
    if isinstance(answer, dict) and answer.get("ok") is True:
        return answer
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(answer, dict) and answer.get("refused") is True:
        raise SafetyRefusal(str(error), str(answer.get("fix", "")), code=str(answer.get("code", ErrorCode.REFUSED)))
    raise StorageUnavailable(f"{what}: {error or 'no answer from the host agent'}", _CHECK_AGENT)
