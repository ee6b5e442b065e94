"""The one recorder of kills raised by the kill file alone, for long-running processes.

``touch EMERGENCY_STOP`` stops every order at once, but until someone records it,
deleting the file would undo it. The bot, the API server and the terminal control
center record such a bare kill file as soon as they see it (the CLI does so in every
command). No grace period is needed: a kill file NIJA raised carries its cause, so
recording it early writes the same activation its raiser would have written, and the
raiser then finds it recorded (``killswitch.activate``)."""

from __future__ import annotations

from nija.domain.diagnosis import StatusReport
from nija.domain.errors import LockTimeout, NijaError
from nija.domain.transitions import Who
from nija.service import SafetyService

# Long-running processes must not stall their loop on a busy lock; they retry next time.
LOCK_WAIT_S = 0.2


class BareKillAdopter:
    def __init__(self, service: SafetyService, who: Who) -> None:
        self.service = service
        self.who = who
        self.problem: str | None = None  # why the last attempt could not record the kill

    def check(self, report: StatusReport | None = None) -> bool:
        """Record a bare kill flag now; True if this call recorded one. ``report``: skip the
        store read when a fresh status already shows there is nothing to record."""
        if report is not None and not (report.kill_file_exists and report.kill_record_active is False):
            return False
        try:
            adopted = self.service.adopt_kill_flag(self.who, timeout_s=LOCK_WAIT_S) is not None
        except LockTimeout:
            return False
        except NijaError as exc:
            self.problem = exc.message
            return False
        self.problem = None
        return adopted

    def record_waiting(self) -> None:
        """At shutdown, the last word: wait for the lock as long as the store allows; a
        failure is raised for the caller to report (the kill stays in force regardless)."""
        self.service.adopt_kill_flag(self.who)
