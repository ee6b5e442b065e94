"""Announce inconsistencies as they appear, for long-lived processes (API server, bot)
that poll the status anyway: each newly present code is published once as an
INCONSISTENCY_DETECTED event, so it is audited and notified. A code that clears and
comes back is announced again. The first check announces everything present: a process
starting on an inconsistent data directory must say so."""

from __future__ import annotations

from nija.domain.diagnosis import StatusReport
from nija.domain.events import Event, EventKind
from nija.domain.transitions import Who
from nija.service import SafetyService


class InconsistencyWatch:
    def __init__(self, service: SafetyService, who: Who) -> None:
        self.service = service
        self.who = who
        self._present: frozenset[str] = frozenset()

    def check(self, report: StatusReport | None = None) -> tuple[str, ...]:
        """Publish the codes not present at the previous check; return them."""
        report = report if report is not None else self.service.status(history_items=0)
        present = {item.code: item for item in report.inconsistencies}
        new = tuple(code for code in present if code not in self._present)
        self._present = frozenset(present)
        for code in new:
            item = present[code]
            self.service.publish(
                Event(
                    EventKind.INCONSISTENCY_DETECTED,
                    self.who.actor,
                    self.who.source,
                    item.message,
                    report.checked_at,
                    {"code": code, "fix": item.fix},
                )
            )
        return new
