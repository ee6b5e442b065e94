"""The bot's writes to the store, which an outage of the fleet database must not turn into a crash."""

from __future__ import annotations

from collections.abc import Callable

from nija.domain.errors import StorageProblem
from nija.runtime.outage import OutageTracker

Alert = Callable[[str, str], None]


class StoreWrites:
    def __init__(self, outage: OutageTracker, alert: Alert) -> None:
        self.outage = outage
        self.alert = alert
        self._failing: set[str] = set()  # per write: one that recovers does not hide another's streak

    def __call__(self, code: str, write: Callable[[], object], meanwhile: str = "") -> bool:
        """Alert once per failing streak and carry on (the caller retries on its next turn;
        ``meanwhile``: what is not in force until it succeeds). Not even tried while the view
        says the database is away: a connect into a network black hole would hold the
        watcher thread for the connect timeout."""
        if self.outage.current is not None:
            return False
        try:
            write()
        except StorageProblem as exc:
            if code not in self._failing:
                self.alert(code, f"{exc.message}; retrying{meanwhile}")
            self._failing.add(code)
            return False
        self._failing.discard(code)
        return True
