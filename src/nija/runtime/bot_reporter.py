"""What the running bot tells the outside: its heartbeat in the store (alive, run identity,
what it saw for live authorization) and its runtime report file (the screens' source)."""

from __future__ import annotations

import threading
import time
from collections import deque
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
from nija.domain.live_auth import LiveVerifier
from nija.domain.records import Heartbeat
from nija.domain.states import Mode
from nija.runtime.account_report import AccountReporter
from nija.runtime.brokers.base import Broker
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.controls import ControlChain
from nija.runtime.dry_run import DryRunClock
from nija.runtime.gate import OrderGate
from nija.runtime.heartbeat import process_heartbeat
from nija.runtime.orders import Fill, Order
from nija.runtime.outage import OutageTracker
from nija.runtime.reaction import Reaction
from nija.runtime.receipts import ReceiptTaker
from nija.runtime.risk import KillTriggers
from nija.runtime.store_writes import Alert, StoreWrites
from nija.store.ports import Store

EQUITY_POINTS = 500  # what the web chart and the TUI sparkline draw; the full curve is in nija report
RECENT_FILLS = 20


@dataclass
class Counters:
    candles: int = 0
    fills: int = 0
    alerts: list[Notice] = field(default_factory=list)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def foreign_orders(live: Broker | None) -> tuple[Order, ...]:
    """Open orders on the exchange account that this bot did not place (left alone)."""
    return tuple(getattr(live, "foreign", ()))


def open_order(o: Order) -> OpenOrder:
    return OpenOrder(id=o.id, symbol=o.symbol, side=o.side.value, type=o.type.value, quantity=o.quantity, price=o.price)


def resume_daily_caps(data_dir: Path, controls: ControlChain, alert: Alert) -> None:
    """The previous run's report (written at least once a second) carries its daily
    counts; a crash loses at most that second."""
    previous = read_report(data_dir)
    figures = previous.controls if previous is not None else {}
    if figures and controls.resume_day(figures.get("day"), figures.get("daily_orders"), figures.get("daily_notional")):
        alert(
            "DAILY_CAPS_RESUMED",
            f"{figures.get('daily_orders')} orders and {figures.get('daily_notional')} notional of a previous "
            f"run today ({figures.get('day')}) count towards today's caps",
        )


class Heartbeats:
    def __init__(
        self, store: Store, storing: StoreWrites, verifier: LiveVerifier, dry_run: DryRunClock, every_s: float
    ) -> None:
        self.store = store
        self.storing = storing
        self.verifier = verifier
        self.dry_run = dry_run
        self.every_s = every_s
        self.started = datetime.now(UTC)
        self._next = 0.0
        self._generation = -1

    def soon(self) -> None:
        self._next = 0.0

    def due(self, now: float) -> bool:
        """A new acknowledgment or verdict is published at once: confirm waits for it."""
        if now < self._next and self.verifier.generation == self._generation:
            return False
        self._next = now + self.every_s
        self._generation = self.verifier.generation
        return True

    def beat(self, *, stopped: bool) -> None:
        self.storing("HEARTBEAT_FAILED", lambda: self.store.beat(self.heartbeat(stopped=stopped)))

    def heartbeat(self, *, stopped: bool) -> Heartbeat:
        return process_heartbeat(self.verifier, self.started, self.dry_run, stopped=stopped)


def mode_word(mode: Mode | None) -> str:
    return "live" if mode is Mode.LIVE else "simulated" if mode is Mode.SIMULATED else "none"


def positions_of(book: Broker) -> tuple[Position, ...]:
    return tuple(
        Position(
            symbol=h.symbol,
            quantity=h.quantity,
            average_price=h.average_price,
            market_price=book.mark(h.symbol),
            unrealized_pnl=((book.mark(h.symbol) or h.average_price) - h.average_price) * h.quantity,
        )
        for h in book.holdings()
    )


def pnl_of(book: Broker) -> Pnl:
    account = book.account()
    return Pnl(
        cash=account.cash,
        equity=account.equity,
        realized=account.realized_pnl,
        unrealized=account.unrealized_pnl,
        fees=account.fees,
    )


def denial_notices(gate: OrderGate) -> tuple[Notice, ...]:
    """The gate's recent denials, each with its own time."""
    return tuple(
        Notice(timestamp=d.at.isoformat(), code=d.code, message=f"{d.symbol}: {d.reason}") for d in gate.recent_denials
    )


class BotReporter:
    def __init__(
        self,
        data_dir: Path,
        every_s: float,
        *,
        paper: PaperBroker,
        live: Broker | None,
        gate: OrderGate,
        controls: ControlChain,
        reaction: Reaction,
        receipts: ReceiptTaker,
        outage: OutageTracker,
        counters: Counters,
        triggers: KillTriggers,
        account_report: AccountReporter | None,
        storing: StoreWrites,
        alert: Alert,
    ) -> None:
        self.data_dir = data_dir
        self.every_s = every_s
        self.paper = paper
        self.live = live
        self.gate = gate
        self.controls = controls
        self.reaction = reaction
        self.receipts = receipts
        self.outage = outage
        self.counters = counters
        self.triggers = triggers
        self.account_report = account_report
        self.storing = storing
        self.alert = alert
        self.equity_curve: deque[EquityPoint] = deque(maxlen=EQUITY_POINTS)
        self.recent_fills: deque[FillItem] = deque(maxlen=RECENT_FILLS)
        self._lock = threading.Lock()  # the loop appends while the watcher thread writes the report
        self._next = 0.0

    def soon(self) -> None:
        self._next = 0.0

    def due(self, now: float) -> bool:
        return now >= self._next

    def add_fill(self, fill: Fill) -> None:
        item = FillItem(
            at=fill.timestamp,
            symbol=fill.symbol,
            side=fill.side.value,
            quantity=fill.quantity,
            price=fill.price,
            fee=fill.fee,
            realized=fill.realized_pnl,
        )
        with self._lock:
            self.recent_fills.append(item)

    def add_point(self, point: EquityPoint) -> None:
        with self._lock:
            self.equity_curve.append(point)

    def write(self) -> None:
        self._next = time.monotonic() + self.every_s
        mode = self.reaction.mode
        book = self.live if mode is Mode.LIVE and self.live is not None else self.paper
        with self._lock:
            curve, recent = tuple(self.equity_curve), tuple(self.recent_fills)
        report = BotReport(
            updated_at=now_iso(),
            mode=mode_word(mode),
            broker=book.name,
            open_orders=tuple(open_order(o) for b in self.gate.brokers for o in b.open_orders()),
            positions=positions_of(book),
            pnl=pnl_of(book),
            orders_placed=self.gate.placed,
            fills=self.counters.fills,
            denials=denial_notices(self.gate),
            denial_counts=dict(self.gate.denials),
            denial_last={code: at.isoformat() for code, at in self.gate.last_denied.items()},
            controls=self.controls.figures(),
            alerts=tuple(self.counters.alerts[-20:]),
            equity_curve=curve,
            recent_fills=recent,
            outages=tuple(OutageReport.model_validate(o) for o in self.outage.as_dicts()),
            foreign_orders=tuple(open_order(o) for o in foreign_orders(self.live)),
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
        self.storing("ACCOUNT_REPORT_FAILED", lambda: reporter.report(book, loss))
        if reporter.breach is not None and seen is None:
            self.alert(str(reporter.breach.code), reporter.breach.reason)
