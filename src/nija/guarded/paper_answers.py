"""The guard's DRY_RUN answers to the bot's private reads and cancels, from the paper
ledger, shaped as ccxt's (a part of GuardCore, kept apart for size)."""

from __future__ import annotations

from typing import Any

from nija.guarded import shapes
from nija.guarded.errors import GuardCode, OrderRefused
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderStatus


class PaperAnswers:
    paper: PaperBroker
    gate: OrderGate
    quote: str
    closed: bool
    paper_client_ids: dict[str, str]

    def is_paper_id(self, order_id: str) -> bool:
        return str(order_id).startswith("paper-")

    def _ledger_open(self) -> None:
        if self.closed:
            raise OrderRefused(GuardCode.GUARD_CLOSED, "the guard was closed: its paper ledger is closed too")

    def paper_order(self, order_id: str) -> dict[str, Any]:
        import ccxt

        self._ledger_open()
        with self.paper.lock:  # one SQLite connection, shared with the watcher thread
            rows = self.paper.ledger.orders(order_id=order_id)
        if not rows:
            raise ccxt.OrderNotFound(f"NIJA paper ledger: no order {order_id}")
        return self._shape(rows[0])

    def paper_orders(
        self, symbol: str | None, status: OrderStatus | None, *, closed_only: bool = False
    ) -> list[dict[str, Any]]:
        self._ledger_open()
        with self.paper.lock:
            rows = self.paper.ledger.orders(symbol=symbol, status=status)
        if closed_only:
            rows = [r for r in rows if r.status is not OrderStatus.OPEN]
        return [self._shape(r) for r in rows]

    def paper_cancel(self, order_id: str) -> dict[str, Any]:
        self._ledger_open()
        with self.gate.lock:
            self.gate.cancel(self.paper, order_id)
        return self.paper_order(order_id)

    def paper_balance(self) -> dict[str, Any]:
        self._ledger_open()
        reserved_cash, reserved = self.paper.reserved()
        return shapes.balance(self.paper.account().cash, reserved_cash, self.paper.holdings(), reserved, self.quote)

    def paper_positions(self, symbols: list[str] | None) -> list[dict[str, Any]]:
        return [
            shapes.position(h, self.paper.mark(h.symbol))
            for h in self.paper.holdings()
            if not symbols or h.symbol in symbols
        ]

    def paper_symbols_open(self) -> set[str]:
        return {o.symbol for o in self.paper.open_orders()}

    def _shape(self, row: Any) -> dict[str, Any]:
        return shapes.order(row, client_order_id=self.paper_client_ids.get(row.order.id), quote=self.quote)
