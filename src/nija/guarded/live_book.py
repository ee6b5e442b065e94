"""The guarded bot's own live orders, seen by the gate and the kill reaction as a broker.

``place`` only approves: the order gate calls it after the permission check said
LIVE_ACTIVE, and the guard then sends the bot's own call (with the guard's client order
id) while still holding the lock the kill reaction takes. What was sent is ``track``ed;
a kill cancels exactly these orders, one by one (never the account's cancel-all: orders
the bot did not place through the guard are not its to cancel)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from nija.runtime.brokers.base import Account, BookReading, CancelResult, Holding
from nija.runtime.candles import Candle
from nija.runtime.orders import Fill, Order, OrderRequest, OrderType, Outcome, PlaceResult, Side

# (exchange order id, symbol) -> the outcome of cancelling it at the exchange.
Canceller = Callable[[str, str], CancelResult]
_CLOSED = frozenset({"closed", "canceled", "cancelled", "rejected", "expired"})


class LiveBook:
    def __init__(
        self,
        exchange_id: str,
        client_id: Callable[[], str],
        *,
        canceller: Canceller | None,
        reader: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self._reader = reader
        self._exchange_id = exchange_id
        self._client_id = client_id
        # None for async exchanges: their cancels are awaited by the async watcher, so the
        # (synchronous) kill reaction is shown no live orders to cancel.
        self._canceller = canceller
        self.lock = threading.RLock()
        self._open: dict[str, Order] = {}
        self.client_ids: dict[str, str] = {}  # exchange id -> the client id the guard sent
        # Every order tracked this run, open or done since, by symbol and id: some venues
        # number orders per symbol, so an id alone could name another program's order.
        self._placed: set[tuple[str, str]] = set()
        self.marks: dict[str, float] = {}

    @property
    def name(self) -> str:
        return f"ccxt:{self._exchange_id}"

    # -- the gate's side --------------------------------------------------------------
    def place(self, request: OrderRequest) -> PlaceResult:
        approved = Order(self._client_id(), request.symbol, request.side, request.type, request.quantity, request.price)
        return PlaceResult(Outcome.ACCEPTED, "APPROVED", "approved for the exchange", approved)

    def track(self, row: dict[str, Any], client_id: str | None, fallback: Order) -> None:
        """Remember an order the exchange accepted for the bot (unless it is already done)."""
        if not row.get("id"):
            return
        order_id = str(row["id"])
        with self.lock:
            self._placed.add((str(row.get("symbol") or fallback.symbol), order_id))
            if client_id:
                self.client_ids[order_id] = client_id
            if str(row.get("status") or "open") in _CLOSED:
                return
            side = str(row["side"]) if row.get("side") in ("buy", "sell") else fallback.side.value
            kind = str(row["type"]) if row.get("type") in ("market", "limit") else fallback.type.value
            self._open[order_id] = Order(
                order_id,
                str(row.get("symbol") or fallback.symbol),
                Side(side),
                OrderType(kind),
                fallback.quantity,
                fallback.price,
            )

    def observe(self, row: dict[str, Any]) -> None:
        """An answer from the exchange about one of the bot's orders: forget it once done."""
        order_id = str(row.get("id") or "")
        if order_id and str(row.get("status") or "") in _CLOSED:
            self.forget(order_id)

    def forget(self, order_id: str) -> None:
        with self.lock:
            self._open.pop(order_id, None)

    def owns(self, order_id: str, symbol: str | None = None) -> bool:
        """An open order placed through this guard (on ``symbol``, when the bot names one)."""
        with self.lock:
            order = self._open.get(order_id)
            return order is not None and (symbol is None or order.symbol == symbol)

    def created(self, order_id: str, symbol: str | None = None) -> bool:
        """Placed through this guard this run (or adopted), open or done since: the bot's own
        to cancel. With a symbol, that symbol's order: some venues number orders per symbol."""
        with self.lock:
            if self.owns(order_id, symbol):
                return True
            return any(oid == order_id and (symbol is None or sym == symbol) for sym, oid in self._placed)

    def id_for_client(self, client_id: str, symbol: str | None = None) -> str | None:
        """The exchange id of the order the guard sent with ``client_id`` (on ``symbol``)."""
        with self.lock:
            ids = [oid for oid, sent in self.client_ids.items() if sent == client_id]
            return next((oid for oid in ids if self.created(oid, symbol)), None)

    def own_open(self) -> tuple[Order, ...]:
        with self.lock:
            return tuple(self._open.values())

    # -- the kill reaction's side ----------------------------------------------------------
    def cancel(self, order_id: str) -> CancelResult:
        order = self._open.get(order_id)
        if order is None or self._canceller is None:
            return CancelResult(order_id, True, "not open")
        result = self._canceller(order_id, order.symbol)
        if result.ok:
            self.forget(order_id)
        return result

    def cancel_all(self) -> list[CancelResult]:
        return [self.cancel(o.id) for o in self.open_orders()]

    def open_orders(self) -> tuple[Order, ...]:
        return self.own_open() if self._canceller is not None else ()

    def open_for(self, symbol: str) -> tuple[Order, ...]:
        return tuple(o for o in self.own_open() if o.symbol == symbol)

    # Live holdings are the exchange's business: the guard keeps no book of them.
    def holdings(self) -> tuple[Holding, ...]:
        return ()

    def held(self, symbol: str) -> float:
        return 0.0

    def account(self) -> Account:
        return Account(0.0, 0.0, 0.0, 0.0, 0.0)

    def mark(self, symbol: str) -> float | None:
        return self.marks.get(symbol)

    def on_candle(self, candle: Candle) -> list[Fill]:
        self.marks[candle.symbol] = candle.close
        return []

    def read_book(self, fresh_after: float | None = None) -> BookReading:
        """What the exchange says is open: the bot's own orders (tracked by this guard)
        and the account's others. Not read for async exchanges from here (their calls are
        awaited: the async account check reads and hands the rows to ``classify``)."""
        if self._reader is None:
            return BookReading(error="the async guard does not read the exchange from this thread")
        try:
            return self.classify(self._reader())
        except Exception as exc:  # noqa: BLE001 - unreadable is "unknown", never "flat"
            return self.unreadable(exc)

    @staticmethod
    def unreadable(exc: BaseException) -> BookReading:
        return BookReading(error=f"the exchange's open orders cannot be read: {exc}")

    def placed(self, row: dict[str, Any]) -> bool:
        """Whether the guard tracked this order this run (open, or cancelled or filled since):
        the same symbol and id, and no other client id than the one the guard sent."""
        order_id = str(row.get("id") or "")
        with self.lock:
            if (str(row.get("symbol") or ""), order_id) not in self._placed:
                return False
            sent = self.client_ids.get(order_id)
            theirs = row.get("clientOrderId")
            return not (sent and theirs and str(theirs) != sent)

    def classify(self, rows: list[dict[str, Any]]) -> BookReading:
        """The exchange's open orders (ccxt rows), split into the bot's own and the others.
        An order the guard placed is the bot's even if forgotten since: the rows may have
        been read before a kill's cancel (or a fill) made the guard forget it."""
        own: list[Order] = []
        foreign: list[Order] = []
        for row in rows:
            order_id = str(row.get("id") or "")
            side = str(row.get("side")) if row.get("side") in ("buy", "sell") else "buy"
            order = Order(
                order_id,
                str(row.get("symbol") or ""),
                Side(side),
                OrderType.LIMIT if row.get("price") else OrderType.MARKET,
                float(row.get("amount") or 0.0),
                float(row["price"]) if row.get("price") else None,
            )
            (own if self.placed(row) else foreign).append(order)
        return BookReading(own_open=tuple(own), foreign_open=tuple(foreign), orders_at=time.monotonic())

    def close(self) -> None:
        pass
