"""Recording kills raised by the kill file alone, for long-running processes.

``touch EMERGENCY_STOP`` stops every order at once, but until someone records it,
deleting the file would undo it. The bot, the API server and the terminal control
center notice such a bare kill file and record it once it has stood for a grace period:
the CLI and the API raise the file a moment before recording the kill themselves, and
adopting it in between would only add a second, less informative history entry."""

from __future__ import annotations

import time
from collections.abc import Callable

from nija.domain.diagnosis import StatusReport
from nija.domain.transitions import Who
from nija.service import SafetyService

GRACE_S = 1.0


class BareKillAdopter:
    def __init__(self, service: SafetyService, who: Who, clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.who = who
        self.clock = clock
        self._seen_since: float | None = None

    def check(self, report: StatusReport) -> bool:
        """Adopt if ``report`` shows a bare kill file that has stood for the grace period."""
        if not (report.kill_file_exists and report.kill_record_active is False):
            self._seen_since = None
            return False
        now = self.clock()
        if self._seen_since is None:
            self._seen_since = now
        if now - self._seen_since < GRACE_S:
            return False
        self._seen_since = None
        return self.service.adopt_kill_flag(self.who) is not None
