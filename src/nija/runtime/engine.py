"""The bot loop: feed -> paper/exchange prices -> strategy -> order gate -> broker.

Threads: the loop runs in the caller's thread; the state watcher runs in its own and
reacts to kills and state changes (cancelling orders under the gate's lock), and
writes the heartbeat and the runtime report about once a second."""

from __future__ import annotations

import math
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nija.bot_report import (
    BotReport,
    EquityPoint,
    FillItem,
    Notice,
    OpenOrder,
    OutageReport,
    Pnl,
    Position,
    read_report,
    write_report,
)
from nija.config import NijaConfig
from nija.domain.actions import CLI_COMMAND, FixAction
from nija.domain.errors import NijaError, StorageProblem
from nija.domain.events import Event, EventKind
from nija.domain.live import short_run
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission, PermissionCode
from nija.domain.records import Heartbeat, KillRecord
from nija.domain.states import Mode, TradingState
from nija.domain.text import printable
from nija.domain.transitions import Who
from nija.kill_adoption import BareKillAdopter
from nija.kill_channel import KillListener, KillMessage
from nija.kill_receipt import KillReceipt, write_receipt
from nija.observability.metrics import Metrics
from nija.runtime.account_report import AccountReporter
from nija.runtime.brokers.base import Broker
from nija.runtime.brokers.owned import foreign_notice
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.candles import Candle
from nija.runtime.controls import ControlChain, DataQuality, GateControls, ReferenceBook
from nija.runtime.direct_kill import DirectKill, LatchedView
from nija.runtime.dry_run import DryRunClock
from nija.runtime.feeds import Freshness
from nija.runtime.gate import OrderGate
from nija.runtime.orders import Order, OrderRequest, PlaceResult
from nija.runtime.outage import OutageRecord, OutageTracker
from nija.runtime.reaction import Reaction
from nija.runtime.receipt_wiring import receipt_brokers, receipt_event
from nija.runtime.receipts import ReceiptRequest, ReceiptTaker
from nija.runtime.risk import KillTriggers, OrderLimits, Trigger
from nija.runtime.strategy import Cancel, Place, Strategy, build_strategy
from nija.runtime.summary import Summary
from nija.runtime.watcher import StateWatcher
from nija.service import SafetyService

EQUITY_POINTS = 500  # what the web chart and the TUI sparkline draw; the full curve is in nija report
RECENT_FILLS = 20


@dataclass
class Counters:
    candles: int = 0
    fills: int = 0
    alerts: list[Notice] = field(default_factory=list)


def _plain(text: str) -> str:
    """Feed text shown in alerts: control characters are shown escaped, never sent."""
    return text if text.isprintable() else repr(text)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Bot:
    def __init__(
        self,
        service: SafetyService,
        config: NijaConfig,
        data_dir: Path,
        *,
        actor: str,
        live_broker: Broker | None = None,
        strategy: Strategy | None = None,
        feed_label: str = "",
        feed_clock: Callable[[], float] | None = None,
        new_account: bool = False,
    ) -> None:
        self.service = service
        self.config = config
        self.data_dir = data_dir
        self.who = Who(actor, "bot")
        self.feed_label = feed_label
        self.stop_event = threading.Event()
        self.counters = Counters()
        self._feed_time = 0.0
        market_clock = feed_clock or (lambda: self._feed_time)
        self._live_prices = feed_clock is not None
        self.freshness = Freshness(config.feed.stale_after_s, market_clock)
        # Pre-trade controls on the market's clock (feed time in a replay), so a replay
        # throttles and breaks exactly as the same orders would live.
        self.quality = DataQuality(on_alert=self._data_alert)
        self.references = ReferenceBook()
        self.controls = ControlChain(config.risk, market_clock, quality=self.quality)
        self.paper = PaperBroker(data_dir, config.paper, new_account=new_account)
        brokers: dict[Mode, Broker] = {Mode.SIMULATED: self.paper}
        if live_broker is not None:
            brokers[Mode.LIVE] = live_broker
        self.live = live_broker
        self.direct_kill = DirectKill()  # a kill sent straight here when the disk could not take it
        # This run's identity for live authorization: drawn here, never stored by the bot
        # except in its heartbeat; what it saw pending lives only in this process.
        self.verifier = LiveVerifier(secrets.token_urlsafe(24))
        self.view = LatchedView(service.store.permission_view(self.verifier), self.direct_kill)
        self.gate = OrderGate(
            self.view,
            brokers,
            vetoes=[self._unrecorded_kill_veto, self.freshness.veto, OrderLimits(config.risk)],
            controls=GateControls(self.controls, self.references),
            on_denied=self._publish_denial,
        )
        self.strategy = strategy or build_strategy(config.strategy)
        self.triggers = KillTriggers(config.risk, config.paper.quote_currency, self.quality)
        self.reaction = Reaction(
            self.gate,
            alert=self.alert,
            retries=config.bot.cancel_retries,
            flatten_on_kill=config.bot.flatten_on_kill,
            on_kill_complete=self.write_report,
        )
        self.kill_complete = threading.Event()
        self.receipts = ReceiptTaker(
            run_id=self.paper.run_id,
            currency=config.paper.quote_currency,
            deadline_s=config.bot.kill_receipt_deadline_s,
            publish=self._on_receipt,
        )
        self._react_lock = threading.RLock()
        self._listener = KillListener(data_dir, self._on_direct_kill)
        self._next_record_try = 0.0
        self._watcher = StateWatcher(
            service.store.changes,
            self.view,
            self._on_permission,
            self._tick,
        )
        self._started = datetime.now(UTC)
        self._next_beat = 0.0
        self._next_report = 0.0
        self._last_denial_publish: dict[str, float] = {}
        self._kill_reason: str | None = None
        self._kill_adopted = False
        self._adopter = BareKillAdopter(service, self.who)
        self._book: Broker = self.paper
        # The service's metrics listener, fed directly with what only the runtime knows.
        self._metrics = next((m for m in service.listeners if isinstance(m, Metrics)), None)
        if self._metrics is not None:
            self._metrics.watch_controls(self.controls.figures)
        self.state_at_start = TradingState.OFF
        self.equity_curve: deque[EquityPoint] = deque(maxlen=EQUITY_POINTS)
        self.recent_fills: deque[FillItem] = deque(maxlen=RECENT_FILLS)
        self._curve_lock = threading.Lock()
        self.restart_rule_from: TradingState | None = None
        self.dry_run = DryRunClock()
        self._beat_generation = -1
        self._live_incident = False
        self.outage = OutageTracker(
            config.bot.outage_cancel_after_s, wall=lambda: datetime.now(UTC), mono=time.monotonic
        )
        # An automatic kill that could not be recorded (the database was unreachable):
        # the bot enforces it itself until it is recorded.
        self._unrecorded_kill: tuple[str, Who] | None = None  # (reason, who)
        self._store_failing = False
        self.account_watch: Any = None  # nija.runtime.account_checks.AccountWatch, with a live broker
        self.account_report = AccountReporter.for_store(service.store, config.exchange.account, self.who, data_dir)

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._live_prices:  # on the wall clock, today's orders of a previous run still count
            self._resume_daily_caps()
        # The database unreachable at start refuses the run (exit 4) right here; later
        # outages are ridden out fail closed. Let the view confirm before the watcher looks.
        wait_confirmed = getattr(self.view, "wait_confirmed", None)  # the view this bot trades through
        if wait_confirmed is not None:
            wait_confirmed(10.0)
        outcome = self.service.on_bot_start(self.who)
        self.state_at_start = outcome.after
        if self.account_report is not None:  # before any order: its account's kill covers it
            self._storing("ACCOUNT_NOT_DECLARED", self.account_report.declare)
        if outcome.changed:
            self.restart_rule_from = outcome.before
            self.alert("RESTART_RULE", f"{outcome.before} -> {outcome.after}: a restart never resumes live trading")
        self._adopter.check()
        self.paper.begin_run()
        if self.live is not None:
            reconcile = getattr(self.live, "reconcile", None)
            if reconcile is not None:
                reconcile()
            self._report_foreign()
            if hasattr(self.live, "arming_allowed"):
                self.live.arming_allowed = lambda: self.reaction.mode is Mode.LIVE
            if hasattr(self.live, "owned"):  # the ccxt broker (ccxt is imported only then)
                from nija.runtime.account_checks import AccountWatch

                self.account_watch = AccountWatch(
                    self.live,  # type: ignore[arg-type]
                    self.config.exchange,
                    self.data_dir,
                    live=lambda: self.reaction.mode is Mode.LIVE,
                    alert=self.alert,
                    trip=self._trip,
                    record=self._record_check,
                )
                self.account_watch.start()
        self._watcher.start()
        self._listener.start()

    def run(self, candles: Iterable[Candle], *, pace_s: float = 0.0, max_candles: int | None = None) -> Summary:
        self.start()
        stopped_by = "end of feed"
        try:
            for candle in candles:
                if self.stop_event.is_set():
                    stopped_by = "stop requested"
                    break
                if max_candles is not None and self.counters.candles >= max_candles:
                    stopped_by = f"--max-candles {max_candles}"
                    break
                self.step(candle)
                if pace_s > 0 and self.stop_event.wait(pace_s):
                    break
            if self.stop_event.is_set():
                stopped_by = "stop requested"
        finally:
            summary = self.finish(stopped_by)
        return summary

    def step(self, candle: Candle) -> None:
        self._feed_time = candle.timestamp
        self.counters.candles += 1
        if not self._usable(candle):
            return  # a bad tick reaches no broker (a paper fill at NaN) and no strategy
        self.freshness.saw_price(candle.timestamp)
        fills = self.paper.on_candle(candle)
        if self.live is not None:
            fills += self.live.on_candle(candle)
        for fill in fills:
            self.counters.fills += 1
            self.controls.filled()
            item = FillItem(
                at=fill.timestamp,
                symbol=fill.symbol,
                side=fill.side.value,
                quantity=fill.quantity,
                price=fill.price,
                fee=fill.fee,
                realized=fill.realized_pnl,
            )
            with self._curve_lock:  # the watcher thread writes the report meanwhile
                self.recent_fills.append(item)
            self._trip(self.triggers.observe_fill(fill))
        book = self.live if self.reaction.mode is Mode.LIVE and self.live is not None else self.paper
        if book is self.live:
            keep_alive = getattr(self.live, "keep_alive", None)  # the dead man's switch: a write, live only
            if keep_alive is not None:
                keep_alive()
        if book is not self._book:
            self._book = book
            self.triggers.reset_equity()
        if fills:  # the screens' equity curve: a point per fill (bounded)
            point = EquityPoint(at=candle.timestamp, equity=book.account().equity)
            with self._curve_lock:
                self.equity_curve.append(point)
        if fills or book.held(candle.symbol) > 0:  # only then can equity have moved
            day = datetime.fromtimestamp(candle.timestamp, UTC).date().isoformat()
            self._trip(self.triggers.observe_equity(book.account().equity, day))
        for action in self.strategy.on_candle(candle, book):
            if isinstance(action, Place):
                self.place(action.request)
            elif isinstance(action, Cancel):
                self.gate.cancel(book, action.order_id)
        if fills:
            self._next_report = 0.0  # the watcher's next tick (<= 250 ms) writes it, off the hot path

    def place(self, request: OrderRequest) -> PlaceResult:
        result = self.gate.place(request)
        if result.accepted and self._metrics is not None:
            self._metrics.order_allowed(str(self.reaction.mode or Mode.SIMULATED))
        self._trip(self.controls.take_trip())  # here, outside the gate's lock (the reaction takes it)
        self._trip(self.triggers.observe_result(result))
        return result

    def _usable(self, candle: Candle) -> bool:
        """Feed the reference book; a candle with an unusable price is reported and dropped.
        Its symbol then has no reference (the newest price was bad) until a good candle."""
        low, high = candle.low, candle.high
        # NaN fails every comparison (min/max would hide it); 0 < low and high < inf bound all four
        good = 0 < low <= candle.open <= high < math.inf and low <= candle.close <= high
        self.references.observe(candle.symbol, candle.close if good else float("nan"), candle.timestamp)
        if not good:
            self._data_alert(
                "DATA_QUALITY",
                f"bad tick {_plain(candle.symbol)} at {candle.timestamp!r}: open {candle.open!r} high {candle.high!r} "
                f"low {candle.low!r} close {candle.close!r}; its orders are denied until a good price",
            )
        return good

    def _resume_daily_caps(self) -> None:
        """The previous run's report (written at least once a second) carries its daily
        counts; a crash loses at most that second."""
        previous = read_report(self.data_dir)
        figures = previous.controls if previous is not None else {}
        if figures and self.controls.resume_day(
            figures.get("day"), figures.get("daily_orders"), figures.get("daily_notional")
        ):
            self.alert(
                "DAILY_CAPS_RESUMED",
                f"{figures.get('daily_orders')} orders and {figures.get('daily_notional')} notional of a previous "
                f"run today ({figures.get('day')}) count towards today's caps",
            )

    def _data_alert(self, code: str, message: str) -> None:
        self.alert(code, message)
        if self._metrics is not None:
            self._metrics.data_quality_alert()

    def finish(self, stopped_by: str) -> Summary:
        self._listener.stop()
        self._watcher.stop()
        if self.account_watch is not None:
            self.account_watch.stop()
        self._on_permission(self._permission())  # the last word on open orders
        self.receipts.wait(self.config.bot.kill_receipt_deadline_s + 1.0)  # a receipt being taken may finish
        self.receipts.stop()
        self.receipts.wait(5.0)
        if self.reaction.kill.active and not self._kill_adopted:
            self._kill_adopted = True
            self._storing("KILL_NOT_RECORDED", self._adopter.record_waiting)
        self._record_unrecorded_kill()
        totals = self.paper.end_run()
        account = self.paper.account()
        self.write_report()
        self._storing("HEARTBEAT_FAILED", lambda: self.service.store.beat(self._heartbeat(stopped=True)))
        end_state: TradingState | None = None
        try:
            if self.outage.current is None:
                end_state = self.service.snapshot().state
        except StorageProblem as exc:
            self.alert("STATE_UNKNOWN", f"the state at the end could not be read: {exc.message}")
        summary = Summary(
            run_id=self.paper.run_id,
            state_at_start=str(self.state_at_start),
            state_at_end=str(end_state) if end_state is not None else "UNKNOWN (the fleet database is unreachable)",
            broker=self.paper.name if self.live is None else f"{self.paper.name} + {self.live.name}",
            feed=self.feed_label,
            candles=self.counters.candles,
            orders_placed=self.gate.placed,
            fills=self.counters.fills,
            cancelled=totals.cancelled,
            rejected=totals.rejected,
            # The ledger's exact amounts, as floats for the report (JSON, text).
            fees=float(totals.fees),
            realized_pnl=float(totals.realized),
            unrealized_pnl=account.unrealized_pnl,
            net_pnl=account.equity - float(totals.start_equity),
            start_equity=float(totals.start_equity),
            end_equity=account.equity,
            currency=self.config.paper.quote_currency,
            account="new" if self.paper.new_account else "continued",
            denials=dict(self.gate.denials.most_common()),
            controls=self.controls.figures(),
            kill=self._kill_reason,
            kill_complete=not self.reaction.kill.active or self.reaction.kill.complete,
            auto_kill=next((t.reason for t in (self.triggers.fired, self.controls.tripped) if t), None),
            stopped_by=stopped_by,
            notes=self._notes(end_state),
            alerts=tuple(f"{a.code}: {a.message}" for a in self.counters.alerts),
            outages=tuple(self.outage.as_dicts()),
            foreign_orders=len(self._foreign()),
            kill_receipt=self.receipts.latest.verdict if self.receipts.latest else None,
            kill_receipt_missed=self.receipts.missed_deadline,
        )
        self.paper.close()
        close_view = getattr(self.view, "close", None)
        if close_view is not None:
            close_view()
        return summary

    def _notes(self, end: TradingState | None) -> tuple[str, ...]:
        notes: list[str] = []
        if self.restart_rule_from is not None:
            notes.append(
                f"The state was {self.restart_rule_from} when this run started; it was turned OFF because a "
                "live confirmation is bound to the bot run it was given to, and a new run never trades on "
                "an old one. To trade live: 'nija restore' (DRY_RUN), keep the bot running in DRY_RUN, then "
                "'nija live request' and confirm while it runs."
            )
        if self.verifier.refused:
            notes.append(f"A LIVE_ACTIVE state this run could not verify was refused: {self.verifier.refused}.")
        if self.state_at_start is TradingState.OFF and self.gate.placed == 0:
            notes.append(
                f"Trading is OFF: no orders were placed. To simulate trading, enter DRY_RUN with "
                f"'{CLI_COMMAND[FixAction.RESTORE]} --data-dir {self.data_dir}' and run again."
            )
        if self._foreign():
            notes.append(f"{foreign_notice(len(self._foreign()))} (never cancelled, amended or sold by NIJA).")
        if end is TradingState.EMERGENCY_STOP:
            notes.append(
                "The kill switch is active: no orders can be placed. Investigate, then "
                f"'{CLI_COMMAND[FixAction.KILL_DEACTIVATE]}' and '{CLI_COMMAND[FixAction.RESTORE]}'."
            )
        return tuple(notes)

    # -- reactions -------------------------------------------------------------------
    def _on_permission(self, permission: Permission) -> None:
        with self._react_lock:  # the watcher thread and the loop (auto kills, finish) both call in
            was_killed, was_live = self.reaction.kill.active, self.reaction.mode is Mode.LIVE
            ongoing = self._track_outage(permission)
            if self._unrecorded_kill is not None:
                permission = Permission(False, None, "KILL_SWITCH_ACTIVE", self._unrecorded_kill[0])
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
                self._kill_reason = permission.reason
                self.alert("KILL", f"kill noticed ({permission.reason}): open orders cancelled before this line")
                self._begin_receipt("kill", permission.reason)
            elif was_live and self.reaction.mode is not Mode.LIVE and not self.reaction.kill.active:
                self._begin_receipt("left live", permission.reason)
            if self.reaction.kill.complete and not self.kill_complete.is_set():
                self.kill_complete.set()
                seen, done = self.reaction.kill.seen_at, self.reaction.kill.complete_at
                if self._metrics is not None and seen is not None and done is not None:
                    self._metrics.observe_kill_reaction(done - seen)
                self.alert("KILL_COMPLETE", "kill complete: no open orders remain")
            elif not self.reaction.kill.active:
                self.kill_complete.clear()
                self._kill_adopted = False
            self.dry_run.saw(permission.code)
            self._adopt_kill_file()
            self._refuse_unverified_live(permission)

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
        self.service.publish(
            Event(
                EventKind.LIVE_NOT_VERIFIED,
                self.who.actor,
                "AUTO_LIVE_NOT_VERIFIED",
                detail,
                datetime.now(UTC),
                {"code": PermissionCode.LIVE_NOT_VERIFIED, "run": short_run(self.verifier.run_id)},
            )
        )
        self._next_beat = 0.0  # publish the refusal at once (status shows it)
        self._trip(
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
            self._next_report = 0.0
        return ongoing

    def _unrecorded_kill_veto(self, request: OrderRequest, broker: Broker) -> tuple[str, str] | None:
        if self._unrecorded_kill is None:
            return None
        return "KILL_SWITCH_ACTIVE", self._unrecorded_kill[0]

    def _storing(self, code: str, write: Callable[[], object]) -> bool:
        """A write to the store that an outage must not turn into a crash: alert once per
        failing streak and carry on (the caller retries on its next turn). Not even tried
        while the view says the database is away: a connect into a network black hole
        would hold the watcher thread for the connect timeout."""
        if self.outage.current is not None:
            return False
        try:
            write()
        except StorageProblem as exc:
            if not self._store_failing:
                self.alert(code, f"{exc.message}; retrying")
            self._store_failing = True
            return False
        self._store_failing = False
        return True

    def _record_unrecorded_kill(self) -> None:
        if self._unrecorded_kill is None or self.outage.current is not None:
            return
        reason, who = self._unrecorded_kill
        try:
            recorded = self.service.snapshot().kill
            # The kill channel's in-memory kill may have recorded it already: not twice.
            if not (isinstance(recorded, KillRecord) and recorded.is_active):
                self.service.activate_kill(reason, who)
        except StorageProblem:
            return  # still unreachable: the bot keeps enforcing the kill itself
        self._unrecorded_kill = None
        self.alert("KILL_RECORDED", f"the automatic kill is now recorded in the store: {reason}")

    def _begin_receipt(self, trigger: str, reason: str) -> None:
        seen = self.reaction.kill.seen_at if trigger == "kill" else None
        request = ReceiptRequest(trigger, reason, seen or time.monotonic(), datetime.now(UTC))
        self.receipts.begin(request, receipt_brokers(self.gate, self.reaction.trading_mode, self.live, trigger))

    def _on_receipt(self, receipt: KillReceipt) -> None:
        """Called from the receipt thread: durable file, alert, audit and notifications, report."""
        write_receipt(self.data_dir, receipt)
        if receipt.confirmed and hasattr(self.live, "disarm_when_flat"):
            self.live.disarm_when_flat()  # type: ignore[union-attr]
        self.alert("KILL_RECEIPT" if receipt.confirmed else "KILL_NOT_CONFIRMED", receipt.verdict)
        self.service.publish(receipt_event(receipt, self.who))
        self._next_report = 0.0

    def _record_check(self, reason: str, details: dict[str, str]) -> None:
        """An exchange check's result, for the audit trail (only when it changed)."""
        self.service.publish(
            Event(EventKind.EXCHANGE_CHECK, self.who.actor, self.who.source, reason, datetime.now(UTC), details)
        )

    def _foreign(self) -> tuple[Order, ...]:
        """Open orders on the exchange account that this bot did not place (left alone)."""
        return tuple(getattr(self.live, "foreign", ()))

    def _report_foreign(self) -> None:
        foreign = self._foreign()
        if foreign:
            self.alert("FOREIGN_ORDERS", foreign_notice(len(foreign)))

    def _adopt_kill_file(self) -> None:
        """Record a kill raised only by ``touch EMERGENCY_STOP`` as soon as it is seen;
        retried on every check until it is recorded (say, once a full disk has room)."""
        if not self.reaction.kill.active or self._kill_adopted:
            return
        if self.outage.current is not None:
            return  # the database is away: a connect into a black hole would hold this thread
        self._adopter.check()
        self._kill_adopted = self._adopter.problem is None

    def _permission(self) -> Permission:
        return self.view.check()  # the bot's own verifying view, behind its direct-kill latch

    def _on_direct_kill(self, message: KillMessage) -> dict[str, object]:
        """A kill that could not be written to disk, sent straight here: stop trading now,
        answer once the open orders are cancelled."""
        self.direct_kill.latch(message.reason, message.actor, message.source)  # from here every order is denied
        try:
            self._on_permission(self._permission())
        except Exception as exc:  # noqa: BLE001 - the answer must still go out: trading is stopped
            self.alert("KILL_INCOMPLETE", f"cancelling after a direct kill failed: {exc}")
        complete = self.kill_complete.wait(timeout=3)
        return {"pid": os.getpid(), "stopped": True, "complete": complete}

    def _record_direct_kill(self) -> None:
        """Keep trying to write a direct kill to disk; once written, the disk's latch holds it."""
        kill = self.direct_kill
        if kill.recorded or kill.reason is None or time.monotonic() < self._next_record_try:
            return
        if self.outage.current is not None:
            return
        self._next_record_try = time.monotonic() + 1.0
        try:
            self.service.activate_kill(kill.reason, Who(kill.actor, kill.source), reach_bots=False)
        except NijaError:
            return
        kill.release()
        self.alert("KILL_RECORDED", "the kill sent directly is now recorded on disk")
        self._on_permission(self._permission())

    def _trip(self, trigger: Trigger | None) -> None:
        if trigger is None:
            return
        # The reason may quote an exchange's error text: escape it rather than have the
        # service refuse it (people's text is refused; an automatic kill never waits).
        reason = printable(trigger.reason, multi_line=True)
        self.alert(trigger.source, reason)
        self._kill_adopted = True  # recorded right here, with the figures
        who = Who(self.who.actor, trigger.source, self.who.principal)
        try:
            self.service.activate_kill(reason, who)
        except StorageProblem as exc:
            # The database is away: enforce the kill here (deny, cancel) and record it when it returns.
            self._unrecorded_kill = (reason, who)
            self.alert("KILL_NOT_RECORDED", f"{exc.message}; the bot enforces the kill itself until it is recorded")
        self._on_permission(self._permission())

    def alert(self, code: str, message: str) -> None:
        last = self.counters.alerts[-1] if self.counters.alerts else None
        if last is not None and (last.code, last.message) == (code, message):
            return  # a repeating failure (say, the feed every poll) is one alert, not fifty
        self.counters.alerts.append(Notice(timestamp=_now_iso(), code=code, message=message))
        del self.counters.alerts[:-50]

    def _publish_denial(self, request: OrderRequest, result: PlaceResult) -> None:
        """Every denial is metered; one event per reason per second at most: a denial
        storm must not flood listeners."""
        if self._metrics is not None:
            self._metrics.order_denied(result.code)
        now = time.monotonic()
        if now - self._last_denial_publish.get(result.code, -10.0) < 1.0:
            return
        self._last_denial_publish[result.code] = now
        self.service.publish(
            Event(
                EventKind.ORDER_DENIED,
                self.who.actor,
                self.who.source,
                result.reason,
                datetime.now(UTC),
                {
                    "code": result.code,
                    "symbol": request.symbol,
                    "count": str(self.gate.denials[result.code]),
                    "metered": "true",  # counted above: the metrics listener must not count it again
                },
            )
        )

    # -- heartbeat and report --------------------------------------------------------
    def _tick(self) -> None:
        self._record_direct_kill()
        now = time.monotonic()
        self.dry_run.tick(now)
        # A new acknowledgment or verdict is published at once: confirm waits for it.
        if now >= self._next_beat or self.verifier.generation != self._beat_generation:
            self._next_beat = now + self.config.bot.heartbeat_s
            self._beat_generation = self.verifier.generation
            self._storing("HEARTBEAT_FAILED", lambda: self.service.store.beat(self._heartbeat(stopped=False)))
            self._record_unrecorded_kill()
        if now >= self._next_report:
            self.write_report()

    def _heartbeat(self, *, stopped: bool) -> Heartbeat:
        verifier = self.verifier
        return Heartbeat(
            os.getpid(),
            socket.gethostname(),
            datetime.now(UTC),
            self._started,
            stopped=stopped,
            run_id=verifier.run_id,
            dry_run_s=self.dry_run.seconds,
            seen_nonce=verifier.seen_nonce,
            live_nonce=verifier.live_nonce,
            live_refused=verifier.refused,
        )

    def write_report(self) -> None:
        self._next_report = time.monotonic() + self.config.bot.report_s
        mode = self.reaction.mode
        book = self.live if mode is Mode.LIVE and self.live is not None else self.paper
        account = book.account()
        with self._curve_lock:
            curve, recent = tuple(self.equity_curve), tuple(self.recent_fills)
        report = BotReport(
            updated_at=_now_iso(),
            mode="live" if mode is Mode.LIVE else "simulated" if mode is Mode.SIMULATED else "none",
            broker=book.name,
            open_orders=tuple(_open_order(o) for b in self.gate.brokers for o in b.open_orders()),
            positions=tuple(
                Position(
                    symbol=h.symbol,
                    quantity=h.quantity,
                    average_price=h.average_price,
                    market_price=book.mark(h.symbol),
                    unrealized_pnl=((book.mark(h.symbol) or h.average_price) - h.average_price) * h.quantity,
                )
                for h in book.holdings()
            ),
            pnl=Pnl(
                cash=account.cash,
                equity=account.equity,
                realized=account.realized_pnl,
                unrealized=account.unrealized_pnl,
                fees=account.fees,
            ),
            orders_placed=self.gate.placed,
            fills=self.counters.fills,
            denials=tuple(
                Notice(timestamp=d.at.isoformat(), code=d.code, message=f"{d.symbol}: {d.reason}")
                for d in self.gate.recent_denials
            ),
            denial_counts=dict(self.gate.denials),
            denial_last={code: at.isoformat() for code, at in self.gate.last_denied.items()},
            controls=self.controls.figures(),
            alerts=tuple(self.counters.alerts[-20:]),
            equity_curve=curve,
            recent_fills=recent,
            outages=tuple(OutageReport.model_validate(o) for o in self.outage.as_dicts()),
            foreign_orders=tuple(_open_order(o) for o in self._foreign()),
            kill_receipt=self.receipts.latest,
            dead_man_switch=str(getattr(self.live, "dead_man_switch_status", "")),
        )
        write_report(self.data_dir, report)
        if self.account_report is not None and mode is Mode.LIVE and self.live is not None:
            self._report_account(self.live)

    def _report_account(self, book: Broker) -> None:
        """The account's limits are judged on every bot's figures: a breach kills the account
        (every bot on it), which reaches this bot through its view like any kill."""
        reporter = self.account_report
        assert reporter is not None
        loss = self.triggers.daily_loss
        if loss is None:
            return  # no equity reading yet on this book: nothing to add to the account
        seen = reporter.breach
        self._storing("ACCOUNT_REPORT_FAILED", lambda: reporter.report(book, loss))
        if reporter.breach is not None and seen is None:
            self.alert(str(reporter.breach.code), reporter.breach.reason)


def _open_order(o: Order) -> OpenOrder:
    return OpenOrder(id=o.id, symbol=o.symbol, side=o.side.value, type=o.type.value, quantity=o.quantity, price=o.price)
