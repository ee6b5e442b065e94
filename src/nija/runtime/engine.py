"""The bot loop: feed -> paper/exchange prices -> strategy -> order gate -> broker.

Threads: the loop runs in the caller's thread; the state watcher runs in its own and
reacts to kills and state changes (cancelling orders under the gate's lock), and
writes the heartbeat and the runtime report about once a second."""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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
from nija.domain.errors import StorageProblem
from nija.domain.events import Event, EventKind
from nija.domain.permission import Permission
from nija.domain.records import Heartbeat
from nija.domain.states import Mode, TradingState
from nija.domain.text import printable
from nija.domain.transitions import Who
from nija.observability.metrics import Metrics
from nija.runtime.brokers.base import Broker
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.candles import Candle
from nija.runtime.controls import ControlChain, DataQuality, GateControls, ReferenceBook
from nija.runtime.feeds import Freshness
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, PlaceResult
from nija.runtime.outage import OutageRecord, OutageTracker
from nija.runtime.reaction import Reaction
from nija.runtime.risk import KillTriggers, OrderLimits, Trigger
from nija.runtime.strategy import Cancel, Place, Strategy, build_strategy
from nija.runtime.summary import Summary
from nija.runtime.watcher import StateWatcher
from nija.service import SafetyService

ADOPT_AFTER_S = 1.0
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
        self.gate = OrderGate(
            service.store.permission_view(),
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
        self._react_lock = threading.RLock()
        self._watcher = StateWatcher(
            service.store.changes,
            service.store.permission_view(),
            self._on_permission,
            self._tick,
        )
        self._started = datetime.now(UTC)
        self._next_beat = 0.0
        self._next_report = 0.0
        self._last_denial_publish: dict[str, float] = {}
        self._kill_reason: str | None = None
        self._kill_adopted = False
        self._book: Broker = self.paper
        # The service's metrics listener, fed directly with what only the runtime knows.
        self._metrics = next((m for m in service.listeners if isinstance(m, Metrics)), None)
        if self._metrics is not None:
            self._metrics.watch_controls(self.controls.figures)
        self.state_at_start = TradingState.OFF
        self.equity_curve: deque[EquityPoint] = deque(maxlen=EQUITY_POINTS)
        self.recent_fills: deque[FillItem] = deque(maxlen=RECENT_FILLS)
        self._curve_lock = threading.Lock()
        self.outage = OutageTracker(
            config.bot.outage_cancel_after_s, wall=lambda: datetime.now(UTC), mono=time.monotonic
        )
        # An automatic kill that could not be recorded (the database was unreachable):
        # the bot enforces it itself until it is recorded.
        self._unrecorded_kill: tuple[str, Who] | None = None  # (reason, who)
        self._store_failing = False

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._live_prices:  # on the wall clock, today's orders of a previous run still count
            self._resume_daily_caps()
        # The database unreachable at start refuses the run (exit 4) right here; later
        # outages are ridden out fail closed. Let the view confirm before the watcher looks.
        wait_confirmed = getattr(self.service.store.permission_view(), "wait_confirmed", None)
        if wait_confirmed is not None:
            wait_confirmed(10.0)
        outcome = self.service.on_bot_start(self.who)
        self.state_at_start = outcome.after
        if outcome.changed:
            self.alert("RESTART_RULE", f"{outcome.before} -> {outcome.after}: a restart never resumes live trading")
        self.service.adopt_kill_flag(self.who)
        self.paper.begin_run()
        if self.live is not None:
            reconcile = getattr(self.live, "reconcile", None)
            if reconcile is not None:
                reconcile()
        self._watcher.start()

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
        self._watcher.stop()
        self._on_permission(self.service.store.permission_view().check())  # the last word on open orders
        if self.reaction.kill.active and not self._kill_adopted:
            self._kill_adopted = True
            self._storing("KILL_NOT_RECORDED", lambda: self.service.adopt_kill_flag(self.who))
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
            fees=totals.fees,
            realized_pnl=totals.realized,
            unrealized_pnl=account.unrealized_pnl,
            net_pnl=account.equity - totals.start_equity,
            start_equity=totals.start_equity,
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
        )
        self.paper.close()
        return summary

    def _notes(self, end: TradingState | None) -> tuple[str, ...]:
        notes: list[str] = []
        if self.state_at_start is TradingState.OFF and self.gate.placed == 0:
            notes.append(
                f"Trading is OFF: no orders were placed. To simulate trading, enter DRY_RUN with "
                f"'{CLI_COMMAND[FixAction.RESTORE]} --data-dir {self.data_dir}' and run again."
            )
        if end is TradingState.EMERGENCY_STOP:
            notes.append(
                "The kill switch is active: no orders can be placed. Investigate, then "
                f"'{CLI_COMMAND[FixAction.KILL_DEACTIVATE]}' and '{CLI_COMMAND[FixAction.RESTORE]}'."
            )
        return tuple(notes)

    # -- reactions -------------------------------------------------------------------
    def _on_permission(self, permission: Permission) -> None:
        with self._react_lock:  # the watcher thread and the loop (auto kills, finish) both call in
            was_killed = self.reaction.kill.active
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
            if self.reaction.kill.complete and not self.kill_complete.is_set():
                self.kill_complete.set()
                seen, done = self.reaction.kill.seen_at, self.reaction.kill.complete_at
                if self._metrics is not None and seen is not None and done is not None:
                    self._metrics.observe_kill_reaction(done - seen)
                self.alert("KILL_COMPLETE", "kill complete: no open orders remain")
            elif not self.reaction.kill.active:
                self.kill_complete.clear()
                self._kill_adopted = False
            self._adopt_kill_file()

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
            self.service.activate_kill(reason, who)
        except StorageProblem:
            return  # still unreachable: the bot keeps enforcing the kill itself
        self._unrecorded_kill = None
        self.alert("KILL_RECORDED", f"the automatic kill is now recorded in the store: {reason}")

    def _adopt_kill_file(self) -> None:
        """Record a kill raised only by ``touch EMERGENCY_STOP``. Wait a moment first: the
        CLI and the API raise the file before they record the kill, and the bot must not
        race them into writing a second, less informative activation."""
        seen = self.reaction.kill.seen_at
        if seen is None or self._kill_adopted or time.monotonic() - seen < ADOPT_AFTER_S:
            return
        self._kill_adopted = True
        try:
            self.service.adopt_kill_flag(self.who)
        except StorageProblem:
            self._kill_adopted = False  # the database is away: try again on the next check

    def _trip(self, trigger: Trigger | None) -> None:
        if trigger is None:
            return
        # The reason may quote an exchange's error text: escape it rather than have the
        # service refuse it (people's text is refused; an automatic kill never waits).
        reason = printable(trigger.reason, multi_line=True)
        self.alert(trigger.source, reason)
        self._kill_adopted = True  # recorded right here, with the figures
        who = Who(self.who.actor, trigger.source)
        try:
            self.service.activate_kill(reason, who)
        except StorageProblem as exc:
            # The database is away: enforce the kill here (deny, cancel) and record it when it returns.
            self._unrecorded_kill = (reason, who)
            self.alert("KILL_NOT_RECORDED", f"{exc.message}; the bot enforces the kill itself until it is recorded")
        self._on_permission(self.service.store.permission_view().check())

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
        now = time.monotonic()
        if now >= self._next_beat:
            self._next_beat = now + self.config.bot.heartbeat_s
            self._storing("HEARTBEAT_FAILED", lambda: self.service.store.beat(self._heartbeat(stopped=False)))
            self._record_unrecorded_kill()
        if now >= self._next_report:
            self.write_report()

    def _heartbeat(self, *, stopped: bool) -> Heartbeat:
        return Heartbeat(os.getpid(), socket.gethostname(), datetime.now(UTC), self._started, stopped=stopped)

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
            open_orders=tuple(
                OpenOrder(
                    id=o.id, symbol=o.symbol, side=o.side.value, type=o.type.value, quantity=o.quantity, price=o.price
                )
                for b in self.gate.brokers
                for o in b.open_orders()
            ),
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
        )
        write_report(self.data_dir, report)
