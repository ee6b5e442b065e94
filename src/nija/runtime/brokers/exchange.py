"""The LIVE_ACTIVE broker: a real exchange through ccxt (sync).

Exchange failures become clear outcomes instead of exceptions: insufficient funds and
invalid orders are REJECTED, rate limits RATE_LIMITED, timeouts and outages
NETWORK_ERROR, anything else EXCHANGE_ERROR (these three count towards the
consecutive-error kill trigger). Where the exchange supports it, every order arms a
dead man's switch (cancel-all-after) so orders die if the bot does. Open orders are
reconciled with the exchange at start and before the first order."""

from __future__ import annotations

import threading
import time
from typing import Any

import ccxt

from nija.runtime.brokers.base import Account, CancelResult, Holding
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
)

BALANCE_TTL_S = 5.0
SYNC_S = 5.0


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
    def __init__(self, client: Any, *, quote: str, dead_man_switch_s: int = 60) -> None:
        self.client = client
        self.quote = quote
        self.dead_man_switch_s = dead_man_switch_s
        self.lock = threading.RLock()
        self.reconciled = False
        self.errors: list[str] = []
        self._open: dict[str, Order] = {}
        self._marks: dict[str, float] = {}
        self._balance: dict[str, Any] | None = None
        self._balance_at = 0.0
        self._armed_until = 0.0
        self._next_sync = 0.0

    @property
    def name(self) -> str:
        return f"ccxt:{self.client.id}"

    # -- start -----------------------------------------------------------------------
    def reconcile(self) -> tuple[Order, ...]:
        """Adopt the exchange's open orders as the truth (they may predate this run)."""
        with self.lock:
            try:
                self.client.load_markets()
                rows = self.client.fetch_open_orders()
            except ccxt.BaseError as exc:
                self.errors.append(f"reconcile failed: {describe(exc).reason}")
                self.reconciled = False
                return ()
            self._open = {o.id: o for o in (_order(row) for row in rows)}
            self.reconciled = True
            return tuple(self._open.values())

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
            try:
                row = self.client.create_order(
                    request.symbol, request.type.value, request.side.value, request.quantity, request.price
                )
            except ccxt.BaseError as exc:
                return describe(exc)
            order = Order(str(row["id"]), request.symbol, request.side, request.type, request.quantity, request.price)
            if (row.get("status") or "open") == "open":
                self._open[order.id] = order
            self._balance = None
            self._arm_dead_man_switch()
            return PlaceResult(Outcome.ACCEPTED, "ACCEPTED", f"accepted by {self.client.id}", order)

    def cancel(self, order_id: str) -> CancelResult:
        with self.lock:
            order = self._open.get(order_id)
            try:
                self.client.cancel_order(order_id, order.symbol if order else None)
            except ccxt.OrderNotFound:
                pass  # already gone: filled or cancelled elsewhere
            except ccxt.BaseError as exc:
                return CancelResult(order_id, False, describe(exc).reason)
            self._open.pop(order_id, None)
            return CancelResult(order_id, True, "cancelled")

    def cancel_all(self) -> list[CancelResult]:
        with self.lock:
            before = list(self._open)
            if self.client.has.get("cancelAllOrders"):
                try:
                    self.client.cancel_all_orders()
                    rows = self.client.fetch_open_orders()
                except ccxt.BaseError as exc:
                    reason = describe(exc).reason
                    return [CancelResult(order_id, False, reason) for order_id in before] or [
                        CancelResult("*", False, reason)
                    ]
                self._open = {o.id: o for o in (_order(row) for row in rows)}
                return [
                    CancelResult(i, i not in self._open, "still open" if i in self._open else "cancelled")
                    for i in sorted(set(before) | set(self._open))
                ]
            return [self.cancel(order_id) for order_id in before]

    def open_orders(self) -> tuple[Order, ...]:
        with self.lock:
            return tuple(self._open.values())

    def open_for(self, symbol: str) -> tuple[Order, ...]:
        with self.lock:
            return tuple(o for o in self._open.values() if o.symbol == symbol)

    # -- account ---------------------------------------------------------------------
    def balance(self) -> dict[str, Any]:
        with self.lock:
            if self._balance is None or time.monotonic() - self._balance_at > BALANCE_TTL_S:
                self._balance = self.client.fetch_balance()
                self._balance_at = time.monotonic()
            return self._balance

    def holdings(self) -> tuple[Holding, ...]:
        try:
            totals = self.balance().get("total") or {}
        except ccxt.BaseError:
            return ()
        return tuple(
            Holding(f"{currency}/{self.quote}", float(amount), self._marks.get(f"{currency}/{self.quote}", 0.0))
            for currency, amount in sorted(totals.items())
            if currency != self.quote and amount
        )

    def held(self, symbol: str) -> float:
        base = symbol.split("/")[0]
        try:
            return float((self.balance().get("total") or {}).get(base) or 0.0)
        except ccxt.BaseError:
            return 0.0

    def account(self) -> Account:
        try:
            cash = float((self.balance().get("total") or {}).get(self.quote) or 0.0)
        except ccxt.BaseError:
            cash = 0.0
        value = sum(h.quantity * self._marks.get(h.symbol, 0.0) for h in self.holdings())
        return Account(cash, cash + value, 0.0, 0.0, 0.0)

    def mark(self, symbol: str) -> float | None:
        return self._marks.get(symbol)

    def on_candle(self, candle: Candle) -> list[Fill]:
        """Record the price; every ``SYNC_S`` look for orders that left the book (fills)."""
        self._marks[candle.symbol] = candle.close
        now = time.monotonic()
        if not self._open or now < self._next_sync:
            return []
        self._next_sync = now + SYNC_S
        return self.sync(candle.timestamp)

    def sync(self, timestamp: float) -> list[Fill]:
        """Orders gone from the exchange's open orders were filled or cancelled there:
        ask for each one and report what was filled (realised P&L is not computed live)."""
        with self.lock:
            try:
                still_open = {str(row["id"]) for row in self.client.fetch_open_orders()}
            except ccxt.BaseError as exc:
                self.errors.append(f"sync failed: {describe(exc).reason}")
                return []
            fills: list[Fill] = []
            for order in [o for o in self._open.values() if o.id not in still_open]:
                try:
                    row = self.client.fetch_order(order.id, order.symbol)
                except ccxt.BaseError as exc:
                    self.errors.append(f"fetch_order {order.id} failed: {describe(exc).reason}")
                    continue
                del self._open[order.id]
                filled = float(row.get("filled") or 0.0)
                if filled > 0:
                    price = float(row.get("average") or row.get("price") or 0.0)
                    fee = float((row.get("fee") or {}).get("cost") or 0.0)
                    fills.append(Fill(order.id, order.symbol, order.side, filled, price, fee, 0.0, timestamp))
            if fills:
                self._balance = None
            return fills

    def close(self) -> None:
        """Leaves the dead man's switch armed on purpose: it protects after the bot is gone."""

    def _arm_dead_man_switch(self) -> None:
        if not self.dead_man_switch_s or not self.client.has.get("cancelAllOrdersAfter"):
            return
        if time.monotonic() < self._armed_until - self.dead_man_switch_s * 2 / 3:
            return  # armed recently enough
        try:
            self.client.cancel_all_orders_after(self.dead_man_switch_s * 1000)
            self._armed_until = time.monotonic() + self.dead_man_switch_s
        except ccxt.BaseError as exc:
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
