"""Getting the bot's kills into the store: an automatic kill the database could not take,
a kill raised only by ``touch EMERGENCY_STOP``, and a kill sent straight to this process
when the disk could not take it. Until recorded, the bot enforces each kill itself."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from nija.domain.errors import StorageProblem
from nija.domain.permission import Permission
from nija.domain.records import KillRecord
from nija.domain.transitions import Who
from nija.kill_adoption import BareKillAdopter
from nija.kill_channel import KillMessage
from nija.runtime.brokers.base import Broker
from nija.runtime.direct_kill import DirectKill
from nija.runtime.orders import OrderRequest
from nija.runtime.outage import OutageTracker
from nija.runtime.store_writes import Alert, StoreWrites
from nija.service import SafetyService


class KillRecorder:
    def __init__(
        self,
        service: SafetyService,
        who: Who,
        outage: OutageTracker,
        storing: StoreWrites,
        alert: Alert,
        direct_kill: DirectKill,
        *,
        react: Callable[[], None],
        kill_complete: threading.Event,
    ) -> None:
        """``react``: apply the view's permission now (cancels orders under the gate's lock);
        ``kill_complete``: set once a kill has no open orders left."""
        self.service = service
        self.who = who
        self.outage = outage
        self.storing = storing
        self.alert = alert
        self.direct_kill = direct_kill
        self.react = react
        self.kill_complete = kill_complete
        self.adopter = BareKillAdopter(service, who)
        # An automatic kill that could not be recorded (the database was unreachable).
        self.unrecorded: tuple[str, Who] | None = None  # (reason, who)
        self.adopted = False  # the active kill is in the store (or being recorded by its raiser)

    def veto(self, request: OrderRequest, broker: Broker) -> tuple[str, str] | None:
        if self.unrecorded is None:
            return None
        return "KILL_SWITCH_ACTIVE", self.unrecorded[0]

    def override(self, permission: Permission) -> Permission:
        """The view cannot know of a kill the store never took: it denies all the same."""
        if self.unrecorded is None:
            return permission
        return Permission(False, None, "KILL_SWITCH_ACTIVE", self.unrecorded[0])

    def activate(self, reason: str, who: Who) -> None:
        """An automatic kill, recorded right here with its figures, or enforced until it can be."""
        self.adopted = True
        try:
            self.service.activate_kill(reason, who)
        except Exception as exc:  # noqa: BLE001 - whatever stopped the record, the kill is enforced
            # The database is away, the disk full, no file descriptor left...: enforce the kill
            # here (deny, cancel) and record it when that passes.
            self.unrecorded = (reason, who)
            said = exc.message if isinstance(exc, StorageProblem) else f"{type(exc).__name__}: {exc}"
            self.alert("KILL_NOT_RECORDED", f"{said}; the bot enforces the kill itself until it is recorded")

    def record_unrecorded(self) -> None:
        if self.unrecorded is None or self.outage.current is not None:
            return
        reason, who = self.unrecorded
        try:
            recorded = self.service.snapshot().kill
            # The kill channel's in-memory kill may have recorded it already: not twice.
            if not (isinstance(recorded, KillRecord) and recorded.is_active):
                self.service.activate_kill(reason, who)
        except Exception:  # noqa: BLE001 - still not recorded: the bot keeps enforcing the kill itself
            return
        self.unrecorded = None
        self.alert("KILL_RECORDED", f"the automatic kill is now recorded in the store: {reason}")

    def adopt_kill_file(self, kill_active: bool) -> None:
        """Record a kill raised only by ``touch EMERGENCY_STOP`` as soon as it is seen;
        retried on every check until it is recorded (say, once a full disk has room)."""
        if not kill_active or self.adopted:
            return
        if self.outage.current is not None:
            return  # the database is away: a connect into a black hole would hold this thread
        self.adopter.check()
        self.adopted = self.adopter.problem is None

    def adopt_at_finish(self, kill_active: bool) -> None:
        """The run's last chance: record a kill still not in the store, as waiting."""
        if kill_active and not self.adopted:
            self.adopted = True
            self.storing("KILL_NOT_RECORDED", self.adopter.record_waiting)

    def on_direct_kill(self, message: KillMessage) -> dict[str, object]:
        """A kill that could not be written to disk, sent straight here: stop trading now,
        answer once the open orders are cancelled."""
        self.direct_kill.latch(message.reason, message.actor, message.source)  # from here every order is denied
        try:
            self.react()
        except Exception as exc:  # noqa: BLE001 - the answer must still go out: trading is stopped
            self.alert("KILL_INCOMPLETE", f"cancelling after a direct kill failed: {exc}")
        complete = self.kill_complete.wait(timeout=3)
        return {"pid": os.getpid(), "stopped": True, "complete": complete}

    def record_direct_kill(self) -> None:
        """Keep trying to write a direct kill to disk; once written, the disk's latch holds it."""
        if self.outage.current is not None:
            return
        if not self.direct_kill.try_record(
            lambda reason, who: self.service.activate_kill(reason, who, reach_bots=False)
        ):
            return
        self.alert("KILL_RECORDED", "the kill sent directly is now recorded on disk")
        self.react()
