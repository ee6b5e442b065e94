"""The DRY_RUN broker: a simulated account with real accounting.

- cash, holdings, fees and slippage; realised P&L (gross of fees) and unrealised P&L;
- a buy needs the cash (including fees and cash reserved by other open buys), a sell
  needs the holdings (no short selling);
- market orders fill at the next candle's open with slippage against the taker;
  limit orders fill when the price crosses them, at the limit or a better open;
- everything persists in the SQLite ledger and is reloaded on restart.

Money is exact: cash, realised P&L and fees are ``Decimal`` totals (each fill's amounts
are computed in decimal from the quantity, price and rate as they print), stored so by
the ledger; the ``Account`` the rest of the bot reads gives them as floats.

Invariant (tested with hypothesis): cash + cost basis of holdings == starting cash +
realised P&L - fees, and no holding is ever negative."""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

from nija.runtime.brokers.base import Account, BookReading, CancelResult, Holding
from nija.runtime.brokers.ledger import LEDGER_FILE, PaperLedger, RunTotals, money
from nija.runtime.candles import Candle
from nija.runtime.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Outcome,
    PlaceResult,
    Side,
    rejected,
)
from nija.runtime.settings import PaperSettings

_EPS = 1e-9
_EPS_MONEY = Decimal("1e-9")


class PaperBroker:
    def __init__(
        self, data_dir: Path, settings: PaperSettings, *, run_id: str | None = None, new_account: bool = False
    ) -> None:
        """``new_account``: start from ``starting_cash`` with no positions (``nija run
        --new-account``); by default the account continues where the last run left it."""
        self.settings = settings
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.ledger = PaperLedger(data_dir / LEDGER_FILE, settings.starting_cash)
        self.new_account = new_account
        if new_account:
            self.ledger.new_account(settings.starting_cash)
        state = self.ledger.load()
        self.starting_cash = float(state.starting_cash)
        self._cash, self._realized, self._fees = state.cash, state.realized, state.fees
        self._holdings = dict(state.holdings)
        self._open: dict[str, Order] = {o.id: o for o in state.open_orders}
        self._seq = state.next_seq
        self._marks: dict[str, float] = {}
        self._maker = settings.maker_fee_pct / 100
        self._taker = settings.taker_fee_pct / 100
        self._slip = settings.slippage_pct / 100
        # The order gate and the kill watcher call in from different threads.
        self.lock = threading.RLock()

    @property
    def name(self) -> str:
        return "paper"

    # -- orders ----------------------------------------------------------------------
    def place(self, request: OrderRequest) -> PlaceResult:
        with self.lock:
            price = request.price if request.type is OrderType.LIMIT else self._marks.get(request.symbol)
            if price is None:
                return rejected("NO_PRICE", f"no price yet for {request.symbol}: a market order needs one")
            if request.side is Side.BUY:
                cost = self._buy_cost(request.quantity, price, request.type)
                available = float(self._cash) - self._reserved_cash()
                if cost > available + _EPS:
                    return rejected(
                        "INSUFFICIENT_FUNDS",
                        f"buying {request.quantity:g} {request.symbol} needs {cost:.2f} "
                        f"{self.settings.quote_currency}, available {available:.2f}",
                    )
            else:
                held = self._held(request.symbol) - self._reserved_quantity(request.symbol)
                if request.quantity > held + _EPS:
                    return rejected(
                        "INSUFFICIENT_HOLDINGS",
                        f"selling {request.quantity:g} {request.symbol} but only {max(held, 0):g} is held and free",
                    )
            order = Order(
                f"paper-{self._seq:08d}", request.symbol, request.side, request.type, request.quantity, request.price
            )
            self.ledger.add_order(order, self.run_id, time.time())
            self._seq += 1
            self._open[order.id] = order
            return PlaceResult(Outcome.ACCEPTED, "ACCEPTED", "accepted by the paper broker", order)

    def cancel(self, order_id: str, reason: str = "cancelled") -> CancelResult:
        with self.lock:
            order = self._open.pop(order_id, None)
            if order is None:
                return CancelResult(order_id, True, "not open")
            self.ledger.set_status(order_id, OrderStatus.CANCELLED, reason)
            return CancelResult(order_id, True, reason)

    def cancel_all(self) -> list[CancelResult]:
        with self.lock:
            ids = list(self._open)
            if ids:
                self.ledger.set_statuses(ids, OrderStatus.CANCELLED, "cancel all")
                self._open.clear()
            return [CancelResult(order_id, True, "cancel all") for order_id in ids]

    def open_orders(self) -> tuple[Order, ...]:
        with self.lock:
            return tuple(self._open.values())

    def open_for(self, symbol: str) -> tuple[Order, ...]:
        if not self._open:
            return ()
        with self.lock:
            return tuple(o for o in self._open.values() if o.symbol == symbol)

    def held(self, symbol: str) -> float:
        return self._held(symbol)

    def reserved(self) -> tuple[float, dict[str, float]]:
        """Cash held back by open buys (fees included) and quantities by open sells."""
        with self.lock:
            sells = {o.symbol: self._reserved_quantity(o.symbol) for o in self._open.values() if o.side is Side.SELL}
            return self._reserved_cash(), sells

    # -- prices and fills ------------------------------------------------------------
    def on_candle(self, candle: Candle) -> list[Fill]:
        fills: list[Fill] = []
        if self._open:
            with self.lock:
                for order in [o for o in self._open.values() if o.symbol == candle.symbol]:
                    price = self._crossing_price(order, candle)
                    if price is not None:
                        fill = self._fill(order, price, candle.timestamp)
                        if fill is not None:
                            fills.append(fill)
        self._marks[candle.symbol] = candle.close
        return fills

    def _crossing_price(self, order: Order, candle: Candle) -> float | None:
        if order.type is OrderType.MARKET:
            factor = 1 + self._slip if order.side is Side.BUY else 1 - self._slip
            return candle.open * factor
        limit = order.price
        assert limit is not None
        if order.side is Side.BUY:
            return min(limit, candle.open) if candle.low <= limit else None
        return max(limit, candle.open) if candle.high >= limit else None

    def _fill(self, order: Order, price: float, timestamp: float) -> Fill | None:
        rate = self._taker if order.type is OrderType.MARKET else self._maker
        notional = money(order.quantity) * money(price)
        fee = notional * money(rate)
        held = self._holdings.get(order.symbol)
        if order.side is Side.BUY:
            if notional + fee > self._cash + _EPS_MONEY:  # a market buy after a gap up
                self._open.pop(order.id)
                self.ledger.set_status(order.id, OrderStatus.REJECTED, "insufficient funds at fill")
                return None
            quantity = order.quantity + (held.quantity if held else 0.0)
            cost = order.quantity * price + (held.quantity * held.average_price if held else 0.0)
            holding: Holding | None = Holding(order.symbol, quantity, cost / quantity)
            self._cash -= notional + fee
            realized = Decimal(0)
        else:
            assert held is not None  # sells are checked against holdings and reserved at placement
            realized = (money(price) - money(held.average_price)) * money(order.quantity)
            remaining = held.quantity - order.quantity
            holding = Holding(order.symbol, remaining, held.average_price) if remaining > _EPS else None
            self._cash += notional - fee
        self._realized += realized
        self._fees += fee
        if holding is None:
            self._holdings.pop(order.symbol, None)
        else:
            self._holdings[order.symbol] = holding
        del self._open[order.id]
        fill = Fill(order.id, order.symbol, order.side, order.quantity, price, float(fee), float(realized), timestamp)
        self.ledger.add_fill(
            fill,
            self.run_id,
            fee=fee,
            fill_realized=realized,
            cash=self._cash,
            realized=self._realized,
            fees=self._fees,
            holding=holding,
        )
        return fill

    # -- account ---------------------------------------------------------------------
    def holdings(self) -> tuple[Holding, ...]:
        with self.lock:
            return tuple(self._holdings.values())

    def mark(self, symbol: str) -> float | None:
        return self._marks.get(symbol)

    def set_mark(self, symbol: str, price: float) -> None:
        self._marks[symbol] = price

    def account(self) -> Account:
        with self.lock:
            unrealized = sum(
                (self._marks.get(h.symbol, h.average_price) - h.average_price) * h.quantity
                for h in self._holdings.values()
            )
            value = sum(self._marks.get(h.symbol, h.average_price) * h.quantity for h in self._holdings.values())
            cash = float(self._cash)
            return Account(cash, cash + value, float(self._realized), unrealized, float(self._fees))

    def read_book(self, fresh_after: float | None = None) -> BookReading:
        """From the ledger on disk: what a kill receipt of a DRY_RUN drill reports."""
        with self.lock:
            try:
                state = self.ledger.load()
            except Exception as exc:  # noqa: BLE001 - an unreadable ledger is "unknown", never "flat"
                return BookReading(error=f"the paper ledger cannot be read: {exc}")
            positions = tuple(
                (h, h.quantity * self._marks.get(h.symbol, h.average_price)) for h in state.holdings.values()
            )
            return BookReading(own_open=tuple(state.open_orders), positions=positions, orders_at=time.monotonic())

    def begin_run(self) -> None:
        self.ledger.begin_run(self.run_id, time.time(), money(self.account().equity))

    def end_run(self) -> RunTotals:
        self.ledger.end_run(self.run_id, time.time(), money(self.account().equity))
        return self.ledger.run_totals(self.run_id)

    def close(self) -> None:
        self.ledger.close()

    # -- helpers ---------------------------------------------------------------------
    def _held(self, symbol: str) -> float:
        held = self._holdings.get(symbol)
        return held.quantity if held else 0.0

    def _buy_cost(self, quantity: float, price: float, kind: OrderType) -> float:
        if kind is OrderType.MARKET:
            return quantity * price * (1 + self._slip) * (1 + self._taker)
        return quantity * price * (1 + self._maker)

    def _reserved_cash(self) -> float:
        total = 0.0
        for o in self._open.values():
            if o.side is Side.BUY:
                price = o.price if o.price is not None else self._marks.get(o.symbol, 0.0)
                total += self._buy_cost(o.quantity, price, o.type)
        return total

    def _reserved_quantity(self, symbol: str) -> float:
        return sum(o.quantity for o in self._open.values() if o.side is Side.SELL and o.symbol == symbol)
