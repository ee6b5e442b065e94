"""The LIVE_ACTIVE broker: a real exchange through ccxt (sync), touching only what it owns.

Every order carries a client order id of the bot's own (``nija.runtime.brokers.owned``),
written to the data directory before the order is sent. The exchange account may hold
orders and balances of people or other systems: they are listed and reported, never
cancelled, amended or sold. There is no account-wide cancel-all: a kill cancels the
bot's own orders one by one and then asks the exchange which are still open.

Exchange failures become clear outcomes instead of exceptions: insufficient funds and
invalid orders are REJECTED, rate limits RATE_LIMITED, timeouts and outages
NETWORK_ERROR, anything else EXCHANGE_ERROR (these three count towards the
consecutive-error kill trigger). Open orders are reconciled with the exchange at start
and before the first order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ccxt

from nija.runtime.brokers.base import Account, BookReading, CancelResult, Holding
from nija.runtime.brokers.deadman import DeadManState, dead_man_switch_for
from nija.runtime.brokers.owned import OwnedBook, OwnedOrder, new_client_id
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

BALANCE_TTL_S = 5.0
SYNC_S = 5.0
_EPS = 1e-12


# What a read may raise: the venue's refusal, or ccxt failing to parse its answer (a
# balance "NaN" raises ValueError inside ccxt). Either way the answer is unknown.
READ_ERRORS = (ccxt.BaseError, ValueError, TypeError, KeyError)


def read_failure(exc: BaseException) -> str:
    """Why a read failed, for a reading's ``error``."""
    if isinstance(exc, ccxt.BaseError):
        return describe(exc).reason
    return f"the exchange's answer could not be read ({type(exc).__name__}: {exc})"[:300]


def describe(exc: BaseException) -> PlaceResult:
    """Map a ccxt error onto an outcome with a stable code (order of checks matters:
    ccxt's RateLimitExceeded is a NetworkError, InsufficientFunds an ExchangeError)."""
    text = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, ccxt.InsufficientFunds):
        return PlaceResult(Outcome.REJECTED, "INSUFFICIENT_FUNDS", f"the exchange refused: insufficient funds ({text})")
    if isinstance(exc, ccxt.InvalidOrder):
        return PlaceResult(Outcome.REJECTED, "INVALID_ORDER", f"the exchange refused the order ({text})")
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountSuspended):
        return PlaceResult(Outcome.EXCHANGE_ERROR, "AUTHENTICATION", f"the exchange refused the API key ({text})")
    if isinstance(exc, ccxt.DDoSProtection):  # includes RateLimitExceeded
        return PlaceResult(Outcome.RATE_LIMITED, "RATE_LIMITED", f"rate limited by the exchange ({text})")
    if isinstance(exc, ccxt.NetworkError):
        return PlaceResult(Outcome.NETWORK_ERROR, "NETWORK_ERROR", f"network error, order state unknown ({text})")
    return PlaceResult(Outcome.EXCHANGE_ERROR, "EXCHANGE_ERROR", text)


class ExchangeBroker:
    def __init__(
        self,
        client: Any,
        owned: OwnedBook,
        *,
        quote: str,
        dead_man_switch_s: int = 60,
        pause_file: Path | None = None,
    ) -> None:
        self.client = client
        self.owned = owned
        self.quote = quote
        self.deadman = DeadManState(
            dead_man_switch_for(client),
            dead_man_switch_s,
            paused=(lambda: pause_file.exists()) if pause_file is not None else (lambda: False),
        )
        self.lock = threading.RLock()
        # Arming the dead man's switch is a write: the engine allows it only while LIVE_ACTIVE
        # (never for a kill's closing orders).
        self.arming_allowed: Callable[[], bool] = lambda: True
        self.reconciled = False
        self.errors: list[str] = []
        self.foreign: tuple[Order, ...] = ()  # open orders of the account the bot did not place
        self._open: dict[str, Order] = {}  # own open orders by exchange id
        self._client_ids: dict[str, str] = {}  # exchange id -> client id
        self._settle: set[str] = set()  # own orders gone from the book whose fills are not read yet
        self._marks: dict[str, float] = {}
        self._balance: dict[str, Any] | None = None
        self._balance_at = 0.0
        self._next_sync = 0.0
        self._orders_read_at = float("-inf")  # when the exchange last listed the open orders

    @property
    def name(self) -> str:
        return f"ccxt:{self.client.id}"

    # -- reading the exchange ------------------------------------------------------------
    def reconcile(self) -> tuple[Order, ...]:
        """Read the account's open orders: adopt the ones this bot placed (by client id or
        by the exchange id it recorded), list the others as foreign. Reads only."""
        with self.lock:
            try:
                self.client.load_markets()
                rows = self.client.fetch_open_orders()
            except ccxt.BaseError as exc:
                self.errors.append(f"reconcile failed: {describe(exc).reason}")
                self.reconciled = False
                return ()
            self._absorb(rows)
            self.reconciled = True
            return tuple(self._open.values())

    def _absorb(self, rows: list[dict[str, Any]]) -> None:
        """Split the exchange's open orders into own and foreign; own orders the book
        thought open but the exchange no longer lists are settled (their fills read)."""
        own: dict[str, Order] = {}
        foreign: list[Order] = []
        for row in rows:
            order = _order(row)
            known = self.owned.owns(row.get("clientOrderId"), order.id)
            if known is None:
                foreign.append(order)
                continue
            own[order.id] = order
            self._client_ids[order.id] = known.client_id
            if known.state != "open" or known.exchange_id != order.id:
                self.owned.record_open(known.client_id, order.id)
        for recorded in self.owned.unsettled():
            if recorded.exchange_id and recorded.exchange_id not in own:
                self._client_ids[recorded.exchange_id] = recorded.client_id
                self._settle.add(recorded.exchange_id)
        self._open = own
        self.foreign = tuple(foreign)
        self._orders_read_at = time.monotonic()

    # -- orders ----------------------------------------------------------------------
    def place(self, request: OrderRequest) -> PlaceResult:
        with self.lock:
            if not self.reconciled:
                self.reconcile()
            if not self.reconciled:
                return PlaceResult(
                    Outcome.NETWORK_ERROR,
                    "NOT_RECONCILED",
                    f"open orders could not be reconciled with {self.client.id}: {self.errors[-1]}",
                )
            if request.side is Side.SELL:
                free = self.held(request.symbol) - self._reserved(request.symbol)
                if request.quantity > free + _EPS:
                    return rejected(
                        "INSUFFICIENT_HOLDINGS",
                        f"selling {request.quantity:g} {request.symbol} but this bot's own fills hold only "
                        f"{max(free, 0):g} free: holdings it did not buy are never sold",
                    )
            client_id = new_client_id()
            self.owned.record_sent(  # before sending: a crash right after still knows the order is ours
                OwnedOrder(
                    client_id,
                    request.symbol,
                    request.side.value,
                    request.type.value,
                    request.quantity,
                    request.price,
                    "sent",
                )
            )
            try:
                row = self.client.create_order(
                    request.symbol,
                    request.type.value,
                    request.side.value,
                    request.quantity,
                    request.price,
                    {"clientOrderId": client_id},
                )
            except ccxt.BaseError as exc:
                result = describe(exc)
                if result.outcome is not Outcome.NETWORK_ERROR:
                    self.owned.record_closed(client_id)  # refused: it never existed
                # else: the outcome is unknown; it stays "sent" and reconciliation finds it by client id
                return result
            order = Order(str(row["id"]), request.symbol, request.side, request.type, request.quantity, request.price)
            self._client_ids[order.id] = client_id
            self.owned.record_open(client_id, order.id)
            if (row.get("status") or "open") == "open":
                self._open[order.id] = order
            else:
                self._settle.add(order.id)
            self._balance = None
            if self.arming_allowed():
                self.keep_alive()
            return PlaceResult(Outcome.ACCEPTED, "ACCEPTED", f"accepted by {self.client.id}", order)

    def cancel(self, order_id: str) -> CancelResult:
        """Cancel one of the bot's own orders; any other id is refused without a request."""
        with self.lock:
            order = self._open.get(order_id)
            if order is None:
                if order_id in self._client_ids:
                    return CancelResult(order_id, True, "not open")
                return CancelResult(order_id, False, "not placed by this bot: left alone")
            try:
                self.client.cancel_order(order_id, order.symbol)
            except ccxt.OrderNotFound:
                pass  # already gone: filled or cancelled elsewhere
            except ccxt.BaseError as exc:
                return CancelResult(order_id, False, describe(exc).reason)
            self._open.pop(order_id, None)
            self._settle.add(order_id)  # a partial fill before the cancel is still ours
            return CancelResult(order_id, True, "cancelled")

    def cancel_all(self) -> list[CancelResult]:
        """The bot's own open orders only, one by one; then the exchange says what is left."""
        with self.lock:
            results = [self.cancel(order_id) for order_id in list(self._open)]
            if not results:
                return []
            try:
                self._absorb(self.client.fetch_open_orders())
            except ccxt.BaseError as exc:
                reason = f"cancelled, but the exchange could not confirm: {describe(exc).reason}"
                return [CancelResult(r.order_id, False, reason) if r.ok else r for r in results]
            return [
                CancelResult(r.order_id, False, "still open at the exchange") if r.order_id in self._open else r
                for r in results
            ]

    def open_orders(self) -> tuple[Order, ...]:
        with self.lock:
            return tuple(self._open.values())

    def open_for(self, symbol: str) -> tuple[Order, ...]:
        with self.lock:
            return tuple(o for o in self._open.values() if o.symbol == symbol)

    def _reserved(self, symbol: str) -> float:
        return sum(o.quantity for o in self._open.values() if o.side is Side.SELL and o.symbol == symbol)

    # -- account ---------------------------------------------------------------------
    def balance(self) -> dict[str, Any]:
        with self.lock:
            if self._balance is None or time.monotonic() - self._balance_at > BALANCE_TTL_S:
                self._balance = self.client.fetch_balance()
                self._balance_at = time.monotonic()
            return self._balance

    def _balance_of(self, currency: str) -> float:
        try:
            return float((self.balance().get("total") or {}).get(currency) or 0.0)
        except ccxt.BaseError:
            return 0.0

    def holdings(self) -> tuple[Holding, ...]:
        """What the bot's own fills bought and still holds (never more than the account
        holds): balances of the account the bot did not buy are not the bot's."""
        return tuple(
            Holding(p.symbol, held, p.average_price)
            for p in sorted(self.owned.positions.values(), key=lambda p: p.symbol)
            if (held := self.held(p.symbol)) > _EPS
        )

    def held(self, symbol: str) -> float:
        own = self.owned.position(symbol)
        if own <= _EPS:
            return 0.0
        return min(own, self._balance_of(symbol.split("/")[0]))

    def account(self) -> Account:
        cash = self._balance_of(self.quote)
        value = sum(h.quantity * self._marks.get(h.symbol, h.average_price) for h in self.holdings())
        return Account(cash, cash + value, 0.0, 0.0, 0.0)

    def mark(self, symbol: str) -> float | None:
        return self._marks.get(symbol)

    def on_candle(self, candle: Candle) -> list[Fill]:
        """Record the price; every ``SYNC_S`` look for own orders that left the book (fills)."""
        self._marks[candle.symbol] = candle.close
        now = time.monotonic()
        if not (self._open or self._settle) or now < self._next_sync:
            return []
        self._next_sync = now + SYNC_S
        return self.sync(candle.timestamp)

    def sync(self, timestamp: float) -> list[Fill]:
        """Own orders gone from the exchange's open orders were filled or cancelled there:
        ask for each one and report what was filled (realised P&L is not computed live)."""
        with self.lock:
            try:
                self._absorb(self.client.fetch_open_orders())
            except ccxt.BaseError as exc:
                self.errors.append(f"sync failed: {describe(exc).reason}")
                return []
            fills: list[Fill] = []
            for order_id in sorted(self._settle):
                fill = self._settle_one(order_id, timestamp)
                if fill is not None:
                    fills.append(fill)
            if fills:
                self._balance = None
            return fills

    def _settle_one(self, order_id: str, timestamp: float) -> Fill | None:
        client_id = self._client_ids.get(order_id)
        known = self.owned.orders.get(client_id) if client_id else None
        if known is None:
            self._settle.discard(order_id)
            return None
        try:
            row = self.client.fetch_order(order_id, known.symbol)
        except ccxt.BaseError as exc:
            self.errors.append(f"fetch_order {order_id} failed: {describe(exc).reason}")
            return None
        if (row.get("status") or "closed") == "open":
            return None
        self._settle.discard(order_id)
        filled = float(row.get("filled") or 0.0)
        price = float(row.get("average") or row.get("price") or 0.0)
        new = self.owned.record_filled(known.client_id, filled, price, closed=True)
        if new <= _EPS:
            return None
        fee = float((row.get("fee") or {}).get("cost") or 0.0)
        return Fill(order_id, known.symbol, Side(known.side), new, price, fee, 0.0, timestamp)

    def read_book(self, fresh_after: float | None = None) -> BookReading:
        """Ask the exchange: open orders on every symbol (an answer it gave after
        ``fresh_after`` is reused: venues like Kraken allow a private call every few
        seconds), then, once none of the bot's orders is open, balances. Reads only."""
        with self.lock:
            try:
                if fresh_after is None or self._orders_read_at < fresh_after:
                    self._absorb(self.client.fetch_open_orders())
                if not self._open:
                    self._balance = None
                    self.balance()
            except READ_ERRORS as exc:
                return BookReading(error=read_failure(exc))
            positions = tuple((h, h.quantity * self._marks.get(h.symbol, h.average_price)) for h in self.holdings())
            return BookReading(tuple(self._open.values()), self.foreign, positions, orders_at=self._orders_read_at)

    def close(self) -> None:
        """Leaves the dead man's switch armed on purpose: it protects after the bot is gone."""

    def disarm_when_flat(self) -> None:
        """After a confirmed kill receipt: no order of the bot is left for the timer, so
        it must not fire later on orders others place on the account."""
        with self.lock:
            if self._open:
                return
            try:
                self.deadman.disarm()
            except ccxt.BaseError as exc:
                self.errors.append(f"dead man's switch not disarmed: {describe(exc).reason}")

    @property
    def dead_man_switch_status(self) -> str:
        return self.deadman.status

    def keep_alive(self) -> None:
        """Arm or refresh the dead man's switch for the bot's own open orders: call only
        while LIVE_ACTIVE (it is a write; outside live the bot writes nothing but cancels)."""
        with self.lock:
            try:
                self.deadman.refresh({o.symbol for o in self._open.values()}, {o.symbol for o in self.foreign})
            except ccxt.BaseError as exc:
                self.deadman.error = f"the exchange refused it: {describe(exc).reason}"
                self.errors.append(f"dead man's switch not armed: {describe(exc).reason}")


def _order(row: dict[str, Any]) -> Order:
    return Order(
        str(row["id"]),
        str(row["symbol"]),
        Side(row["side"]),
        OrderType(row["type"]) if row.get("type") in ("market", "limit") else OrderType.LIMIT,
        float(row.get("amount") or 0.0),
        float(row["price"]) if row.get("price") is not None else None,
        OrderStatus.OPEN,
    )
