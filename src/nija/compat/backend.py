"""The one SafetyService behind the compat modules, per data directory (or fleet scope).

Every read asks the store's permission view (a few ``stat`` calls when nothing changed,
the kill file first), so nothing cached here can hide a kill; only when the view cannot
decide (not confirmed yet, stale, failed) is the whole snapshot read, and a failure of
that reads as "killed". State callbacks fire on every change this process observes: its
own transitions at once, other processes' changes on its next read."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from nija.assembly import build_service
from nija.compat.callbacks import StateObserver
from nija.compat.run import ADOPT_LOCK_WAIT_S, CompatRun, start_run
from nija.domain.diagnosis import HEARTBEAT_MAX_AGE, StatusReport, report
from nija.domain.permission import Permission, PermissionCode, decide
from nija.domain.records import Snapshot, TradingRecord
from nija.domain.states import Mode, TradingState
from nija.domain.transitions import Who
from nija.identity import local_who
from nija.kill_adoption import BareKillAdopter
from nija.service import Outcome, SafetyService
from nija.store import JsonFileStore, PermissionView
from nija.store.ports import catch_up

logger = logging.getLogger("nija.compat")

KILLED = "KILL_SWITCH_ACTIVE"  # the permission code every store gives for an active kill
# LIVE_ACTIVE not reached by a confirmed request, or not verified by the running bot's run.
UNTRUSTED_LIVE = (PermissionCode.HISTORY_MISMATCH, PermissionCode.LIVE_NOT_VERIFIED)
SOURCE = "compat"
NOT_RECORDED = "Could not record the kill file EMERGENCY_STOP (the kill is in force): %s"
RUN_STOPPED = "this process's bot run has stopped: it never trades live again"
NOT_THE_RUN = (
    "LIVE_ACTIVE was granted to another process's bot run: this process is not the store's bot run "
    "(another bot ran when it started, or its run could not start) and never trades live. Start the "
    "bot again (a restart turns the live state OFF), then request live trading for its run"
)
CATCH_UP_S = 2.0  # a cached view (PostgreSQL, the host agent) shows this process's own change within this

_project_root: Path | None = None


def use_project_root(path: str | os.PathLike[str]) -> None:
    """The original's default data directory: the project root (the parent of ``bot/``).
    The ``bot/`` shims call this with their own location."""
    global _project_root
    _project_root = Path(path)


def default_location() -> Path:
    """NIJA_DATA_DIR, else the project root registered by the shims, else the cwd."""
    configured = os.environ.get("NIJA_DATA_DIR")
    if configured:
        return Path(configured)
    return _project_root if _project_root is not None else Path.cwd()


def state_from_permission(permission: Permission) -> TradingState | None:
    """The effective state a permission implies; None when it cannot say (not checked,
    stale, failed). Killed or an untrusted LIVE_ACTIVE reads as EMERGENCY_STOP."""
    if permission.code == KILLED or permission.code in UNTRUSTED_LIVE:
        return TradingState.EMERGENCY_STOP
    if permission.allowed:
        return TradingState.LIVE_ACTIVE if permission.mode is Mode.LIVE else TradingState.DRY_RUN
    prefix, _, name = permission.code.partition("_")
    if prefix == "STATE" and name in TradingState.__members__:
        return TradingState(name)
    return None


class Backend:
    def __init__(self, location: Path) -> None:
        self.location = location
        self.service = _build(location)
        self.view: PermissionView = self.service.permission_view()
        self.actor = local_who(SOURCE).actor
        self.started = False  # the restart rule runs once per process (state machine start)
        # Only a live confirmation given while this process runs can be this process's.
        self.started_at = self.service.clock()
        self.local_kill: str | None = None  # a kill this process could not record
        self.live_blocked: str | None = None  # live refused in this process (restart rule failed)
        self.observer = StateObserver()
        self.run: CompatRun | None = None  # this process as the store's bot run (the state machine starts it)
        self._adopter = BareKillAdopter(self.service, self.who("FILE_SYSTEM"))
        self._kill_recorded = False  # the kill in force is known to be recorded (not a bare kill file)
        self._adopt_lock = threading.RLock()

    def who(self, source: str = SOURCE) -> Who:
        return Who(self.actor, source or SOURCE)

    @property
    def kill_file_path(self) -> str:
        store = self.service.store
        return str(store.kill_path) if isinstance(store, JsonFileStore) else store.location

    # -- reading -------------------------------------------------------------------
    def read(self) -> tuple[Permission, TradingState]:
        """One reading: may this process trade (and how), and the effective state (observed)."""
        ticket = self.observer.ticket()
        if self.local_kill is not None:
            reason = f"the kill switch is active in this process: {self.local_kill}"
            permission, state = Permission(False, None, KILLED, reason), TradingState.EMERGENCY_STOP
        else:
            if self.run is not None and self.run.stopped:  # no beats write a kill sent straight here now
                self.run.record_held_kill()
            permission = self.view.check()
            found = state_from_permission(permission)
            if found is None:
                permission = self._permission_from_snapshot()
                found = state_from_permission(permission)
            state = found or TradingState.EMERGENCY_STOP
            if permission.mode is Mode.LIVE:
                permission = self._restrict_live(permission)
            if permission.code == KILLED:
                self._record_bare_kill_file()
            else:
                self._kill_recorded = False
        self.observer.observe(state, ticket)
        return permission, state

    def start_run(self) -> Outcome | None:
        """This process as the store's bot run (once): the restart rule, the heartbeat and its
        own verifier, through which every later read goes. None: another bot runs (a reader)."""
        run = start_run(self.service, self.who(), self.location, self._adopt_lock)
        if run is None:
            return None
        outcome = self.change(run.start)  # raises if it cannot start: then a reader, never live
        self.run = run
        replaced, self.view = self.view, run.run.view  # reads verify a LIVE_ACTIVE with this run's verifier
        close = getattr(replaced, "close", None)
        if close is not None:
            close()  # a fleet store's view holds a connection and a thread
        return outcome

    def stop_run(self) -> bool:
        """This process stops being the store's bot run before it exits (a bot that shuts
        down, a test that removes its directory): its beats end, and its stopped heartbeat
        is the last thing they write. It still hears, reads and raises kills; it never
        trades live again (a LIVE_ACTIVE granted to its run is no longer its own). Its run
        claim is held until it exits. False: see ``CompatRun.stop_beating``."""
        return True if self.run is None else self.run.stop_beating()

    def permission(self) -> Permission:
        return self.read()[0]

    def state(self) -> TradingState:
        return self.read()[1]

    def _permission_from_snapshot(self) -> Permission:
        try:
            return decide(self.service.snapshot(), now=self.service.clock())
        except Exception as exc:  # noqa: BLE001 - cannot read the store: fail closed
            return Permission(False, None, KILLED, f"the store cannot be read ({exc}): treated as killed")

    def _restrict_live(self, permission: Permission) -> Permission:
        """A confirmed LIVE_ACTIVE belongs to the bot run it was granted to: this process
        trades live only as the store's bot run (started, not stopped), on a confirmation
        given while it runs. While another process's bot heartbeat is alive (``nija run``)
        the live state is that bot's; once that bot has gone (crashed: its heartbeat only
        grows old) it is still nobody else's."""
        if self.live_blocked is not None:
            return Permission(False, None, "LIVE_BLOCKED", self.live_blocked)
        if self.run is not None and self.run.stopped:
            return Permission(False, None, "LIVE_BLOCKED", RUN_STOPPED)
        try:
            snapshot = self.service.snapshot()
        except Exception as exc:  # noqa: BLE001 - cannot tell whose live it is: refuse
            return Permission(False, None, "LIVE_BLOCKED", f"the store cannot be read ({exc})")
        beat = snapshot.heartbeat
        mine = beat is not None and beat.pid == os.getpid() and beat.host == socket.gethostname()
        if beat is not None and not mine and beat.may_be_running(self.service.clock(), HEARTBEAT_MAX_AGE):
            return Permission(
                False,
                None,
                "LIVE_OWNED_BY_RUNNING_BOT",
                f"LIVE_ACTIVE belongs to the bot running as pid {beat.pid} on {beat.host}: "
                "this process may not trade live",
            )
        record = snapshot.trading
        confirmed = record.history[-1].timestamp if isinstance(record, TradingRecord) and record.history else None
        if confirmed is None or confirmed < self.started_at:
            return Permission(
                False,
                None,
                "LIVE_CONFIRMED_BEFORE_START",
                "LIVE_ACTIVE was confirmed before this process started (a restart never resumes live "
                "trading): request and confirm live trading again",
            )
        if self.run is None:  # a reader: the live state was granted to another process's run
            return Permission(False, None, "LIVE_NOT_THIS_RUN", NOT_THE_RUN)
        return permission

    def kill_active(self) -> bool:
        return self.permission().code == KILLED

    def snapshot_and_report(self) -> tuple[Snapshot, StatusReport]:
        snapshot = self.service.snapshot()
        return snapshot, report(snapshot, self.service.clock(), history_items=0)

    def _record_bare_kill_file(self) -> None:
        """Record a kill raised by ``touch EMERGENCY_STOP`` alone on the very read that sees
        it, before the caller gets its answer: deleting the file a moment later can no longer
        undo the kill, even if this process stops on that answer. One status read per kill;
        retried on the next read while it could not be recorded (a full disk, a busy lock)."""
        if self._kill_recorded or not self._adopt_lock.acquire(timeout=ADOPT_LOCK_WAIT_S):
            return
        try:
            status = self.service.status(history_items=0)
            if not status.kill_file_exists or status.kill_record_active is not False:
                self._kill_recorded = True  # recorded already, or not a kill file (the fleet's record)
            elif self._adopter.check(status):
                self._kill_recorded = True
            elif self._adopter.problem:
                logger.warning(NOT_RECORDED, self._adopter.problem)
        except Exception as exc:  # noqa: BLE001 - the kill stands either way
            logger.warning(NOT_RECORDED, exc)
        finally:
            self._adopt_lock.release()

    # -- the kill switch -------------------------------------------------------------
    def activate_kill(self, reason: str, source: str) -> bool:
        """Never raises, as the original's activate; False if NIJA could not record the kill:
        this process then stays killed (in memory) and the log says what is in force."""
        try:
            self.change(lambda: self.service.activate_kill(reason, self.who(source)))
            return True
        except Exception as exc:  # noqa: BLE001 - a stop must never be undone by an error
            self.local_kill = reason or "activation could not be recorded"
            # The service's message says whether the kill file (seen by every process) is up.
            logger.critical("KILL SWITCH: %s. This process refuses every operation from now on.", exc)
            self.state()  # reads as killed now: the EMERGENCY_STOP callbacks fire
            return False

    # -- changes ----------------------------------------------------------------------
    def change(self, operation: Callable[[], Outcome]) -> Outcome:
        """Run a service operation, then fire the callbacks of the states it entered."""
        started = self.observer.ticket()
        with self._adopt_lock:  # our own kill file, raised a moment before its record, is not bare
            try:
                outcome = operation()
            finally:
                self._adopter = BareKillAdopter(self.service, self.who("FILE_SYSTEM"))
        self.observer.observe_change(outcome, started)  # the callbacks first: a kill's never wait
        # The original's callers read the state right after changing it ("transition, then
        # check"): a view cached by a reader thread must show this change first, or a kill
        # just recorded would read as not in force.
        if not catch_up(self.view, CATCH_UP_S):
            logger.warning("The store's view did not confirm this change within %g s: reads may lag", CATCH_UP_S)
        return outcome


def _build(location: Path) -> SafetyService:
    """A broken nija.toml must never stop a stop: its problems are logged, its valid
    sections used (the same leniency as status and recovery)."""
    return build_service(location, config_warning=lambda problem: logger.error("nija.toml: %s", problem), bot_run=True)


_backends: dict[tuple[str, str, str], Backend] = {}
_backends_lock = threading.Lock()


def backend_for(location: str | os.PathLike[str] | None = None) -> Backend:
    """The process's one backend for a data directory (and NIJA_STORE / NIJA_BOT scope)."""
    path = Path(location) if location is not None else default_location()
    key = (str(path.resolve()), os.environ.get("NIJA_STORE", ""), os.environ.get("NIJA_BOT", ""))
    with _backends_lock:
        backend = _backends.get(key)
        if backend is None:
            backend = _backends[key] = Backend(path)
        return backend
