"""The bot loop: feed -> paper/exchange prices -> strategy -> order gate -> broker.

Threads: the loop runs in the caller's thread; the state watcher runs in its own and
reacts to kills and state changes (cancelling orders under the gate's lock), and
writes the heartbeat and the runtime report about once a second. The collaborators:
``PermissionReactor`` (what the view permits), ``KillRecorder`` (kills not yet in the
store), ``BotReporter``/``Heartbeats`` (what the bot tells the outside), ``finish`` (the
end summary)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nija.bot_report import EquityPoint, Notice
from nija.config import NijaConfig
from nija.domain.codes import ErrorCode
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission
from nija.domain.states import Mode, TradingState
from nija.domain.transitions import Who
from nija.kill_channel import KillListener
from nija.kill_receipt import KillReceipt
from nija.observability.metrics import Metrics
from nija.runtime.account_report import AccountReporter
from nija.runtime.bot_events import BotEvents
from nija.runtime.bot_reporter import BotReporter, Counters, Heartbeats, now_iso, resume_daily_caps
from nija.runtime.brokers.base import Broker
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.candles import Candle
from nija.runtime.controls import ControlChain, DataQuality, GateControls, ReferenceBook
from nija.runtime.direct_kill import DirectKill, LatchedView
from nija.runtime.dry_run import DryRunClock
from nija.runtime.feeds import Freshness
from nija.runtime.finish import end_state, summarize
from nija.runtime.gate import OrderGate
from nija.runtime.kill_record import KillRecorder
from nija.runtime.live_attach import attach_live
from nija.runtime.orders import OrderRequest, PlaceResult
from nija.runtime.outage import OutageTracker
from nija.runtime.permission_reactor import PermissionReactor
from nija.runtime.reaction import Reaction
from nija.runtime.receipt_wiring import publish_receipt
from nija.runtime.receipts import ReceiptTaker
from nija.runtime.risk import KillTriggers, OrderLimits, Trigger
from nija.runtime.store_writes import StoreWrites
from nija.runtime.strategy import Cancel, Place, Strategy, build_strategy
from nija.runtime.summary import Summary
from nija.runtime.ticks import usable
from nija.runtime.watcher import StateWatcher
from nija.service import SafetyService
from nija.store.ports import catch_up

if TYPE_CHECKING:
    from nija.runtime.account_checks import AccountWatch

__all__ = ["Bot", "Counters"]


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
        self.outage = OutageTracker(
            config.bot.outage_cancel_after_s, wall=lambda: datetime.now(UTC), mono=time.monotonic
        )
        self.storing = StoreWrites(self.outage, self.alert)
        self.kill_complete = threading.Event()
        self.kill_record = KillRecorder(
            service,
            self.who,
            self.outage,
            self.storing,
            self.alert,
            self.direct_kill,
            react=self._react,
            kill_complete=self.kill_complete,
        )
        self.gate = OrderGate(
            self.view,
            brokers,
            vetoes=[self.kill_record.veto, self.freshness.veto, OrderLimits(config.risk)],
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
        self.receipts = ReceiptTaker(
            run_id=self.paper.run_id,
            currency=config.paper.quote_currency,
            deadline_s=config.bot.kill_receipt_deadline_s,
            publish=self._on_receipt,
        )
        self._listener = KillListener(data_dir, self.kill_record.on_direct_kill)
        self._watcher = StateWatcher(
            service.store.changes,
            self.view,
            self._on_permission,
            self._tick,
        )
        self._book: Broker = self.paper
        # The service's metrics listener, fed directly with what only the runtime knows.
        self._metrics = next((m for m in service.listeners if isinstance(m, Metrics)), None)
        if self._metrics is not None:
            self._metrics.watch_controls(self.controls.figures)
        self.events = BotEvents(service, self.who, self._metrics)
        self.state_at_start = TradingState.OFF
        self.restart_rule_from: TradingState | None = None
        self.dry_run = DryRunClock()
        self.account_watch: AccountWatch | None = None  # with the ccxt broker
        self.account_report = AccountReporter.for_store(service.store, config.exchange.account, self.who, data_dir)
        self.heartbeats = Heartbeats(service.store, self.storing, self.verifier, self.dry_run, config.bot.heartbeat_s)
        self.reporter = BotReporter(
            data_dir,
            config.bot.report_s,
            paper=self.paper,
            live=self.live,
            gate=self.gate,
            controls=self.controls,
            reaction=self.reaction,
            receipts=self.receipts,
            outage=self.outage,
            counters=self.counters,
            triggers=self.triggers,
            account_report=self.account_report,
            storing=self.storing,
            alert=self.alert,
        )
        self.reactor = PermissionReactor(
            service,
            self.who,
            self.view.check,  # the bot's own verifying view, behind its direct-kill latch
            reaction=self.reaction,
            recorder=self.kill_record,
            outage=self.outage,
            receipts=self.receipts,
            gate=self.gate,
            live=self.live,
            verifier=self.verifier,
            dry_run=self.dry_run,
            metrics=self._metrics,
            alert=self.alert,
            kill_complete=self.kill_complete,
            report_soon=self.reporter.soon,
            beat_soon=self.heartbeats.soon,
        )

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._live_prices:  # on the wall clock, today's orders of a previous run still count
            resume_daily_caps(self.data_dir, self.controls, self.alert)
        # The database unreachable at start refuses the run (exit 4) right here; later
        # outages are ridden out fail closed. Let the view confirm before the watcher looks.
        wait_confirmed = getattr(self.view, "wait_confirmed", None)  # the view this bot trades through
        if wait_confirmed is not None:
            wait_confirmed(10.0)
        outcome = self.service.on_bot_start(self.who)
        if outcome.changed:  # the view confirmed the live state: it must not judge it again
            catch_up(self.view, 10.0)
        self.state_at_start = outcome.after
        self._declare_account()  # before any order: its account's kill covers it
        if outcome.changed:
            self.restart_rule_from = outcome.before
            self.alert("RESTART_RULE", f"{outcome.before} -> {outcome.after}: a restart never resumes live trading")
        self.kill_record.adopter.check()
        self.paper.begin_run()
        if self.live is not None:
            self.account_watch = attach_live(
                self.live,
                self.config,
                self.data_dir,
                is_live=lambda: self.reaction.mode is Mode.LIVE,
                alert=self.alert,
                trip=self._trip,
                record=self.events.exchange_check,
            )
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
        if not usable(candle, self.references, self._data_alert):
            return  # a bad tick reaches no broker (a paper fill at NaN) and no strategy
        self.freshness.saw_price(candle.timestamp)
        fills = self.paper.on_candle(candle)
        if self.live is not None:
            fills += self.live.on_candle(candle)
        for fill in fills:
            self.counters.fills += 1
            self.controls.filled()
            self.reporter.add_fill(fill)
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
            self.reporter.add_point(EquityPoint(at=candle.timestamp, equity=book.account().equity))
        if fills or book.held(candle.symbol) > 0:  # only then can equity have moved
            day = datetime.fromtimestamp(candle.timestamp, UTC).date().isoformat()
            self._trip(self.triggers.observe_equity(book.account().equity, day))
        for action in self.strategy.on_candle(candle, book):
            if isinstance(action, Place):
                self.place(action.request)
            elif isinstance(action, Cancel):
                self.gate.cancel(book, action.order_id)
        if fills:
            self.reporter.soon()  # the watcher's next tick (<= 250 ms) writes it, off the hot path

    def place(self, request: OrderRequest) -> PlaceResult:
        result = self.gate.place(request)
        if result.accepted and self._metrics is not None:
            self._metrics.order_allowed(str(self.reaction.mode or Mode.SIMULATED))
        self._trip(self.controls.take_trip())  # here, outside the gate's lock (the reaction takes it)
        self._trip(self.triggers.observe_result(result))
        return result

    def _data_alert(self, code: str, message: str) -> None:
        self.alert(code, message)
        if self._metrics is not None:
            self._metrics.data_quality_alert()

    def finish(self, stopped_by: str) -> Summary:
        self._listener.stop()
        self._watcher.stop()
        if self.account_watch is not None:
            self.account_watch.stop()
        self._react()  # the last word on open orders
        self.receipts.wait(self.config.bot.kill_receipt_deadline_s + 1.0)  # a receipt being taken may finish
        self.receipts.stop()
        self.receipts.wait(5.0)
        self.kill_record.adopt_at_finish(self.reaction.kill.active)
        self.kill_record.record_unrecorded()
        totals = self.paper.end_run()
        account = self.paper.account()
        self.write_report()
        self.heartbeats.beat(stopped=True)
        end = end_state(self.service, self.outage, self.alert)
        summary = summarize(
            paper=self.paper,
            live=self.live,
            totals=totals,
            account=account,
            feed=self.feed_label,
            counters=self.counters,
            gate=self.gate,
            controls=self.controls,
            reaction=self.reaction,
            triggers=self.triggers,
            outage=self.outage,
            receipts=self.receipts,
            currency=self.config.paper.quote_currency,
            state_at_start=self.state_at_start,
            state_at_end=end,
            kill_reason=self.reactor.kill_reason,
            stopped_by=stopped_by,
            restart_rule_from=self.restart_rule_from,
            live_refused=self.verifier.refused,
            data_dir=self.data_dir,
        )
        self.paper.close()
        close_view = getattr(self.view, "close", None)
        if close_view is not None:
            close_view()
        return summary

    # -- reactions (the reactor's; kept here for the watcher, the account watch and tests) --
    def _on_permission(self, permission: Permission) -> None:
        self.reactor.on_permission(permission)

    def _react(self) -> None:
        self.reactor.react()

    def _trip(self, trigger: Trigger | None) -> None:
        self.reactor.trip(trigger)

    def _on_receipt(self, receipt: KillReceipt) -> None:
        publish_receipt(
            receipt, data_dir=self.data_dir, live=self.live, alert=self.alert, service=self.service, who=self.who
        )
        self.reporter.soon()

    def alert(self, code: str, message: str) -> None:
        last = self.counters.alerts[-1] if self.counters.alerts else None
        if last is not None and (last.code, last.message) == (code, message):
            return  # a repeating failure (say, the feed every poll) is one alert, not fifty
        self.counters.alerts.append(Notice(timestamp=now_iso(), code=code, message=message))
        del self.counters.alerts[:-50]

    def _publish_denial(self, request: OrderRequest, result: PlaceResult) -> None:
        self.events.denied(request, result, self.gate.denials[result.code])

    # -- heartbeat and report --------------------------------------------------------
    def _tick(self) -> None:
        self.kill_record.record_direct_kill()
        now = time.monotonic()
        self.dry_run.tick(now)
        if self.heartbeats.due(now):
            self.heartbeats.beat(stopped=False)
            self.kill_record.record_unrecorded()
            self._declare_account()  # one attempt a heartbeat, after the reaction this check ran
        if self.reporter.due(now):
            self.write_report()

    def _declare_account(self) -> None:
        """Until it succeeds: a failed declaration leaves the bot outside its account's kill."""
        report = self.account_report
        if report is not None and not report.declared:
            self.storing(ErrorCode.ACCOUNT_NOT_DECLARED, report.declare, report.meanwhile)

    def write_report(self) -> None:
        self.reporter.write()
