"""The bot's reactions to what its view permits: kills (with their receipts), leaving live,
fleet-database outages, a LIVE_ACTIVE this run cannot verify, and its own automatic kills."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from nija.domain.live import live_not_verified, short_run
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission, PermissionCode
from nija.domain.states import Mode
from nija.domain.text import printable
from nija.domain.transitions import Who
from nija.observability.metrics import Metrics
from nija.runtime.brokers.base import Broker
from nija.runtime.dry_run import DryRunClock
from nija.runtime.gate import OrderGate
from nija.runtime.kill_record import KillRecorder
from nija.runtime.outage import OutageRecord, OutageTracker
from nija.runtime.reaction import Reaction
from nija.runtime.receipt_wiring import receipt_brokers
from nija.runtime.receipts import ReceiptRequest, ReceiptTaker
from nija.runtime.risk import Trigger
from nija.runtime.store_writes import Alert
from nija.service import SafetyService


class PermissionReactor:
    def __init__(
        self,
        service: SafetyService,
        who: Who,
        permission: Callable[[], Permission],
        *,
        reaction: Reaction,
        recorder: KillRecorder,
        outage: OutageTracker,
        receipts: ReceiptTaker,
        gate: OrderGate,
        live: Broker | None,
        verifier: LiveVerifier,
        dry_run: DryRunClock,
        metrics: Metrics | None,
        alert: Alert,
        kill_complete: threading.Event,
        report_soon: Callable[[], None],
        beat_soon: Callable[[], None],
    ) -> None:
        """``permission``: the bot's own verifying view; ``report_soon``/``beat_soon``: have
        the watcher's next tick write the report / the heartbeat."""
        self.service = service
        self.who = who
        self.permission = permission
        self.reaction = reaction
        self.recorder = recorder
        self.outage = outage
        self.receipts = receipts
        self.gate = gate
        self.live = live
        self.verifier = verifier
        self.dry_run = dry_run
        self.metrics = metrics
        self.alert = alert
        self.kill_complete = kill_complete
        self.report_soon = report_soon
        self.beat_soon = beat_soon
        self.kill_reason: str | None = None
        self._lock = threading.RLock()
        self._live_incident = False

    def react(self) -> None:
        self.on_permission(self.permission())

    def on_permission(self, permission: Permission) -> None:
        with self._lock:  # the watcher thread and the loop (auto kills, finish) both call in
            was_killed, was_live = self.reaction.kill.active, self.reaction.mode is Mode.LIVE
            ongoing = self._track_outage(permission)
            permission = self.recorder.override(permission)
            if ongoing is None:
                self.reaction(permission)
            elif self.outage.keep_orders(ongoing):
                self.reaction(permission, keep_orders=True)
            else:
                open_before = self.reaction.open_orders()
                self.reaction(permission)  # as on a kill: cancel with retries, say so if some stay open
                if ongoing.orders_cancelled_at is None:
                    cancelled = open_before - self.reaction.open_orders()
                    self.outage.cancelled(ongoing, cancelled)
                    self.alert(
                        "OUTAGE_ORDERS_CANCELLED",
                        f"the fleet database has been unreachable for over {self.outage.cancel_after_s:g} s: "
                        f"{cancelled} open order(s) cancelled",
                    )
            if self.reaction.kill.active and not was_killed:
                self.kill_reason = permission.reason
                self.alert("KILL", f"kill noticed ({permission.reason}): open orders cancelled before this line")
                self._begin_receipt("kill", permission.reason)
            elif was_live and self.reaction.mode is not Mode.LIVE and not self.reaction.kill.active:
                self._begin_receipt("left live", permission.reason)
            if self.reaction.kill.complete and not self.kill_complete.is_set():
                self.kill_complete.set()
                seen, done = self.reaction.kill.seen_at, self.reaction.kill.complete_at
                if self.metrics is not None and seen is not None and done is not None:
                    self.metrics.observe_kill_reaction(done - seen)
                self.alert("KILL_COMPLETE", "kill complete: no open orders remain")
            elif not self.reaction.kill.active:
                self.kill_complete.clear()
                self.recorder.adopted = False
            self.dry_run.saw(permission.code)
            self.recorder.adopt_kill_file(self.reaction.kill.active)
            self._refuse_unverified_live(permission)

    def trip(self, trigger: Trigger | None) -> None:
        if trigger is None:
            return
        # The reason may quote an exchange's error text: escape it rather than have the
        # service refuse it (people's text is refused; an automatic kill never waits).
        reason = printable(trigger.reason, multi_line=True)
        self.alert(trigger.source, reason)
        self.recorder.activate(reason, Who(self.who.actor, trigger.source, self.who.principal))
        self.react()

    def _refuse_unverified_live(self, permission: Permission) -> None:
        """A LIVE_ACTIVE this run cannot verify (a restored backup, a copy, an edit, another
        bot's confirmation) is an incident: it is denied, recorded, notified, and the kill
        switch is raised so that people look before anything trades again."""
        if permission.code != PermissionCode.LIVE_NOT_VERIFIED:
            if not self.verifier.refused:
                self._live_incident = False
            return
        if self._live_incident:
            return
        self._live_incident = True
        detail = self.verifier.refused or permission.reason
        self.service.publish(live_not_verified(self.who.actor, detail, self.verifier.run_id, datetime.now(UTC)))
        self.beat_soon()  # publish the refusal at once (status shows it)
        self.trip(
            Trigger(
                "LIVE_NOT_VERIFIED",
                f"The running bot (run {short_run(self.verifier.run_id)}) refused a LIVE_ACTIVE it cannot "
                f"verify: {detail}",
            )
        )

    def _track_outage(self, permission: Permission) -> OutageRecord | None:
        before = self.outage.current
        ongoing = self.outage.observe(permission, sum(self.gate.denials.values()))
        if before is None and ongoing is not None:
            self.alert(
                "DATABASE_OUTAGE",
                f"the fleet database cannot be confirmed ({permission.reason}): every order is denied; "
                f"open orders are cancelled after {self.outage.cancel_after_s:g} s; reconnecting",
            )
        elif before is not None and ongoing is None and before.end is not None:
            self.alert(
                "DATABASE_BACK",
                f"the fleet database is back after {(before.end - before.start).total_seconds():.1f} s "
                f"({before.orders_denied} order(s) denied meanwhile)",
            )
            self.report_soon()
        return ongoing

    def _begin_receipt(self, trigger: str, reason: str) -> None:
        seen = self.reaction.kill.seen_at if trigger == "kill" else None
        request = ReceiptRequest(trigger, reason, seen or time.monotonic(), datetime.now(UTC))
        self.receipts.begin(request, receipt_brokers(self.gate, self.reaction.trading_mode, self.live, trigger))
