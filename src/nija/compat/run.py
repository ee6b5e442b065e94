"""The original bot's process as a verified bot run, like ``nija run`` and ``nija.guard``.

Live trading is granted to a running bot's run only (DESIGN.md invariant 7): a request
names the run in the heartbeat, the bot acknowledges it in its next beat, and only that
run's ``LiveVerifier`` accepts the confirmed LIVE_ACTIVE. The compat layer reuses the
guard's ``GuardRun`` for this, with a beating thread in place of the guard's watcher.

A process becomes the run when its state machine starts, and only if no other bot runs
on the store: a live heartbeat of another process, or the run claim held by one (exit 3
for ``nija run``), leaves it a reader as before (it never trades live; a LIVE_ACTIVE
belongs to the bot that runs). A run that cannot start (read-only directory, unreachable
database) is a reader too: the safe direction, said in the log."""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from pathlib import Path

from nija.domain.diagnosis import HEARTBEAT_MAX_AGE
from nija.domain.errors import NijaError
from nija.domain.live import short_run
from nija.domain.transitions import Who
from nija.guarded.run import GuardRun
from nija.runtime.run_claim import hold_run_claim
from nija.service import Outcome, SafetyService
from nija.store import JsonFileStore

logger = logging.getLogger("nija.compat")

TICK_S = 0.25  # as nija run's watcher: DRY_RUN time, acknowledgments and beats follow within this
ADOPT_LOCK_WAIT_S = 2.0  # a change of this process in progress (its own kill, maybe) finishes first
STOP_WAIT_S = 5.0  # a beat under way when the run stops (a slow store) ends within this, normally


def beat_thread_name(directory: Path) -> str:
    """The beating thread's name: which directory a process beats in, for a thread dump."""
    return f"nija-compat-run {directory}"


class CompatRun:
    """The run and its beating thread, whose last write is the stopped heartbeat."""

    def __init__(self, run: GuardRun, lock: threading.RLock, directory: Path) -> None:
        self.run = run
        self.directory = directory
        # The backend's: a kill this process is raising (kill file first, then its record)
        # is not a bare kill file for the beating thread to record.
        self._lock = lock
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._beat_loop, name=beat_thread_name(directory), daemon=True)
        self._problem = ""

    def start(self) -> Outcome:
        try:
            outcome = self.run.start()  # the restart rule, and a bare kill file recorded
            self.run.saw(self.run.check())
            self.run.beat()
        except BaseException:
            self.run.close()
            raise
        self._thread.start()
        atexit.register(self.stop)
        return outcome

    @property
    def stopped(self) -> bool:
        """Its beats have ended (stopped, or its directory removed): it never trades live."""
        return self._stopping.is_set()

    def _beat_loop(self) -> None:
        while not self._stopping.wait(TICK_S):
            if not self.directory.is_dir():  # the data directory was removed: no bot runs there
                self._stopping.set()
                if isinstance(self.run.service.store, JsonFileStore):
                    self.run.close()  # its records went with it: nothing left to hear or read
                    return
                break  # the fleet database keeps its records: it is told this run stopped
            try:
                with self._lock:
                    if self._stopping.is_set():
                        break  # stopped while this beat waited for the lock: the stopped beat is next
                    self.run.saw(self.run.check())  # sees a pending request; an unverifiable live is a kill
                self.run.tick()
                self._problem = ""
            except Exception as exc:  # noqa: BLE001 - a failed beat is an old heartbeat: never live
                if str(exc) != self._problem:
                    self._problem = str(exc)
                    logger.warning("The heartbeat could not be written (live trading needs it): %s", exc)
        self._beat_stopped()

    def _beat_stopped(self) -> None:
        """The thread's last write, so that no beat of it can land after the stopped one; a
        kill sent straight here and not yet written is tried once more first."""
        self.record_held_kill()
        try:
            self.run.beat(stopped=True)
        except Exception as exc:  # noqa: BLE001 - the heartbeat goes stale by itself
            logger.warning("The stopped heartbeat could not be written: %s", exc)

    def record_held_kill(self) -> None:
        """Write a kill sent straight here, under the lock of this process's changes: the
        kill file it raises first is not a bare kill file for another thread's read."""
        if self.run.direct_kill.active and self._lock.acquire(timeout=ADOPT_LOCK_WAIT_S):
            try:
                self.run.record_direct_kill()
            finally:
                self._lock.release()

    def stop_beating(self, timeout_s: float = STOP_WAIT_S) -> bool:
        """The beats end with the stopped heartbeat; the run still hears and reads kills.
        False: a beat was still under way after ``timeout_s`` (a slow store, or this thread
        holds the lock that beat waits for); the beating thread writes the stopped
        heartbeat when that beat ends, and nothing after it."""
        self._stopping.set()
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout_s)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """At exit: the beats end, then the run's kill listener and its view close."""
        if not self.stop_beating():
            logger.warning("The last heartbeat is still being written at exit; it goes stale by itself")
        self.run.close()


def start_run(
    service: SafetyService, who: Who, directory: Path, lock: threading.RLock, heartbeat_s: float = 1.0
) -> CompatRun | None:
    """This process as the store's bot run (claimed, not started yet), or None (another
    bot runs, or the claim failed)."""
    location = service.store.location
    try:
        beat = service.store.load().heartbeat
        mine = beat is not None and beat.pid == os.getpid() and beat.host == socket.gethostname()
        if beat is not None and not mine and beat.may_be_running(service.clock(), HEARTBEAT_MAX_AGE):
            logger.info("A bot runs on %s (pid %s on %s): this process reads and kills", location, beat.pid, beat.host)
            return None
        hold_run_claim(directory, bot=getattr(service.store, "bot", None), heartbeat=beat, now=service.clock())
    except NijaError as exc:
        logger.warning("Not a bot run on %s (%s): this process never trades live", location, exc.message)
        return None
    compat_run = CompatRun(GuardRun(service, who, heartbeat_s=heartbeat_s, data_dir=directory), lock, directory)
    logger.info(
        "Bot run %s on %s: live trading needs a confirmation made for it", short_run(compat_run.run.run_id), location
    )
    return compat_run
