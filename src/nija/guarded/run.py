"""The guarded bot's run: the one seam between the guard and NIJA's core.

Everything the guard asks NIJA goes through ``GuardRun``, exactly as ``nija run`` asks
it: the permission check through the store's view with this run's ``LiveVerifier`` (so
LIVE_ACTIVE is accepted only for a confirmation made for this very run, of a request it
saw pending: DESIGN.md invariant 7), the heartbeat that publishes the run id, its DRY_RUN
time and its live acknowledgments (and makes the guarded bot visible to ``status``, the
web and the TUI), and the restart rule at construction."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nija.domain.codes import ErrorCode
from nija.domain.errors import NijaError, StorageProblem
from nija.domain.live import live_not_verified, short_run
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission, PermissionCode
from nija.domain.transitions import Who
from nija.kill_adoption import BareKillAdopter
from nija.kill_channel import KillListener, KillMessage
from nija.runtime.account_report import AccountReporter
from nija.runtime.direct_kill import DirectKill, LatchedView
from nija.runtime.dry_run import DryRunClock
from nija.runtime.heartbeat import process_heartbeat
from nija.service import Outcome, SafetyService
from nija.store.ports import PermissionView, catch_up


@dataclass
class GuardRun:
    service: SafetyService
    who: Who
    heartbeat_s: float = 1.0
    verifier: LiveVerifier = field(default_factory=lambda: LiveVerifier(secrets.token_urlsafe(24)))
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The data directory: where ``kill activate`` tells the running bots directly when the
    # kill cannot be written to disk (nija/kill_channel.py). None: no direct kills heard.
    data_dir: Path | None = None
    # What the owner does on a direct kill, at once (cancel its orders); True once complete.
    on_direct_kill: Callable[[], bool] | None = None
    # ``[exchange] account`` on the fleet store: declared at start (retried every beat until
    # the database takes it), so the account's kill covers this run, as for ``nija run``.
    account: str | None = None
    alert: Callable[[str, str], None] = lambda code, message: None

    def __post_init__(self) -> None:
        # A kill sent straight here denies every order of this run, whatever the disk says.
        self.direct_kill = DirectKill()
        self.view: PermissionView = LatchedView(self.service.store.permission_view(self.verifier), self.direct_kill)
        self._listener = KillListener(self.data_dir, self._heard) if self.data_dir is not None else None
        self._listening = False
        self.dry_run = DryRunClock()
        self._next_beat = 0.0
        self._generation = -1
        self._incident = False
        self._adopter = BareKillAdopter(self.service, Who(self.who.actor, "FILE_SYSTEM", self.who.principal))
        self._kill_recorded = False
        # Between a start() that failed and one that succeeded, a persisted live state is the
        # previous run's, waiting for the restart rule (denied meanwhile), not an incident.
        self._restart_pending = False
        self._account = AccountReporter.for_store(self.service.store, self.account, self.who, self.data_dir or Path())

    @property
    def run_id(self) -> str:
        return self.verifier.run_id

    def start(self) -> Outcome:
        """The restart rule (a persisted live state becomes OFF), then adopt a bare kill file.
        A fleet store's view first confirms the database answers (as ``nija run``). Raises
        a NijaError when the store cannot take it; calling it again retries."""
        self._restart_pending = True
        wait_confirmed = getattr(self.view, "wait_confirmed", None)
        if wait_confirmed is not None:
            wait_confirmed(10.0)
        outcome = self.service.on_bot_start(self.who)
        if outcome.changed:  # the view confirmed the live state: it must not judge it again
            catch_up(self.view, 10.0)
        self._restart_pending = False
        self.service.adopt_kill_flag(self.who)
        self.declare_account()
        self.listen()
        return outcome

    def listen(self) -> None:
        """Hear kills sent directly (``kill activate`` when the disk cannot take the kill)."""
        if self._listener is not None and not self._listening:
            self._listening = True
            self._listener.start()

    def _heard(self, message: KillMessage) -> dict[str, object]:
        """A kill that could not be written to disk, sent straight here: from now on every
        check denies; the owner cancels at once; the answer says whether that completed."""
        self.direct_kill.latch(message.reason, message.actor, message.source)
        complete = False
        if self.on_direct_kill is not None:
            try:
                complete = self.on_direct_kill()
            except Exception:  # noqa: BLE001 - the answer must still go out: trading is stopped
                complete = False
        return {"pid": os.getpid(), "stopped": True, "complete": complete}

    def record_direct_kill(self) -> None:
        """Keep trying to write a direct kill to disk; once written, the disk's latch holds it."""
        self.direct_kill.try_record(lambda reason, who: self.service.activate_kill(reason, who, reach_bots=False))

    def check(self) -> Permission:
        """The gate's question: may an order of this run be placed now, and in which mode?"""
        return self.view.check()

    def saw(self, permission: Permission) -> None:
        """What the watcher saw: counts DRY_RUN time, records a bare kill file on sight, and
        treats a LIVE_ACTIVE this run cannot verify as ``nija run`` does (an incident:
        recorded, and the kill raised)."""
        self.dry_run.saw(permission.code)
        self._record_kill_file(permission)
        if permission.code != PermissionCode.LIVE_NOT_VERIFIED:
            self._incident = bool(self._incident and self.verifier.refused)
            return
        if self._incident or self._restart_pending:
            return
        self._incident = True
        detail = self.verifier.refused or permission.reason
        run = short_run(self.run_id)
        self.service.publish(live_not_verified(self.who.actor, detail, self.run_id, datetime.now(UTC)))
        self.service.activate_kill(
            f"The guarded bot (run {run}) refused a LIVE_ACTIVE it cannot verify: {detail}",
            Who(self.who.actor, "AUTO_LIVE_NOT_VERIFIED", self.who.principal),
        )

    def _record_kill_file(self, permission: Permission) -> None:
        """As ``nija run``: a kill raised by ``touch EMERGENCY_STOP`` alone is recorded as soon
        as it is seen (no grace: a kill file NIJA raised carries its cause), so deleting the
        file cannot undo it; retried on every sighting until it is recorded."""
        if permission.code != PermissionCode.KILL_SWITCH_ACTIVE:
            self._kill_recorded = False
            return
        if self._kill_recorded:
            return
        try:
            status = self.service.status(history_items=0)
        except NijaError:
            return  # unreadable now: the kill stands; tried again on the next sighting
        if not status.kill_file_exists or status.kill_record_active is not False:
            self._kill_recorded = True  # recorded already, or no file to record (a fleet kill)
        elif self._adopter.check(status):
            self._kill_recorded = True

    def tick(self) -> None:
        """About every 250 ms: count DRY_RUN time; beat when due or when the verifier's
        answer changed (a live confirmation waits for the acknowledgment in the beat)."""
        now = time.monotonic()
        self.record_direct_kill()
        self.dry_run.tick(now)
        if now >= self._next_beat or self.verifier.generation != self._generation:
            self._next_beat = now + self.heartbeat_s
            self._generation = self.verifier.generation
            self.beat()
            self.declare_account()

    def declare_account(self) -> None:
        """One attempt, until one succeeds: a failed declaration leaves the run outside its
        account's kill (and its live requests refused), so it is never given up."""
        report = self._account
        if report is None or report.declared:
            return
        try:
            report.declare()
        except StorageProblem as exc:
            self.alert(ErrorCode.ACCOUNT_NOT_DECLARED, f"{exc.message}; retrying{report.meanwhile}")

    def beat(self, *, stopped: bool = False) -> None:
        self.service.store.beat(process_heartbeat(self.verifier, self.started_at, self.dry_run, stopped=stopped))

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        close = getattr(self.view, "close", None)
        if close is not None:
            close()
