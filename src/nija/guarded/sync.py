"""``nija.guard`` for a synchronous ccxt exchange: the object the bot trades through."""

from __future__ import annotations

import contextlib
from typing import Any

import ccxt

from nija.domain.states import Mode
from nija.guarded.account import GuardAccountWatch
from nija.guarded.core import GuardCore, OrderCall
from nija.guarded.errors import OrderRefused
from nija.guarded.facade import GuardFacade
from nija.runtime.brokers.base import CancelResult
from nija.runtime.brokers.exchange import describe
from nija.runtime.orders import OrderStatus
from nija.runtime.watcher import StateWatcher


def sync_canceller(exchange: Any) -> Any:
    """The kill reaction's cancel of one of the bot's own live orders."""

    def cancel(order_id: str, symbol: str) -> CancelResult:
        try:
            exchange.cancel_order(order_id, symbol)
        except ccxt.OrderNotFound:
            pass  # already gone: filled or cancelled elsewhere
        except ccxt.BaseError as exc:
            return CancelResult(order_id, False, describe(exc).reason)
        return CancelResult(order_id, True, "cancelled")

    return cancel


class GuardedExchange(GuardFacade):
    """Behaves like the wrapped ccxt exchange; see docs/guard.md for what each call does."""

    _OWN = frozenset({"_exchange", "_core", "_watcher", "_account"})
    _watcher: StateWatcher
    _account: GuardAccountWatch | None

    def __init__(self, exchange: Any, core: GuardCore) -> None:
        object.__setattr__(self, "_exchange", exchange)
        object.__setattr__(self, "_core", core)
        core.start()
        self._adopt_own_orders()
        account = None
        if getattr(exchange, "apiKey", None):  # with keys: the reconciliation a live request needs
            account = GuardAccountWatch(
                exchange,
                core.live,
                quote=core.quote,
                data_dir=core.data_dir,
                every_s=core.config.exchange.reconcile_s,
                lock=core.gate.lock,
                alert=core.alert,
            )
            account.start()
        object.__setattr__(self, "_account", account)
        watcher = StateWatcher(core.run.service.store.changes, core.run, self._on_permission, core.tick)
        object.__setattr__(self, "_watcher", watcher)
        watcher.start()

    # -- plumbing ----------------------------------------------------------------------
    def __enter__(self) -> GuardedExchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the watcher, record the guarded bot as stopped, then close the exchange."""
        if not self._core.closed:
            if self._account is not None:
                self._account.stop()
            self._watcher.stop()
            with self._core.gate.lock:
                self._core.finish()
        self._exchange.close()

    def _adopt_own_orders(self) -> None:
        """Orders a crashed run of this bot left open are its own: find them (with keys)."""
        if not getattr(self._exchange, "apiKey", None) or not self._exchange.has.get("fetchOpenOrders"):
            return
        try:
            rows = self._exchange.fetch_open_orders()
        except ccxt.BaseError as exc:
            self._core.alert("ADOPT_FAILED", f"open orders of a previous run could not be read: {describe(exc).reason}")
            return
        self._core.adopt(rows)

    def _on_permission(self, permission: Any) -> None:
        self._core.on_permission(permission)

    def _live_only(self, name: str, method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._core.gate.lock:
                permission = self._core.permission()
                if not (permission.allowed and permission.mode is Mode.LIVE):
                    raise self._core.refuse_method(name, "live_only")
                return method(*args, **kwargs)

        return call

    def _observing(self, method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            tickers = result.values() if isinstance(result, dict) and "symbol" not in result else [result]
            for ticker in tickers:
                if isinstance(ticker, dict):
                    self._core.observe_ticker(ticker)
            return result

        return call

    # -- orders --------------------------------------------------------------------------
    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        call = OrderCall(symbol, type, side, amount, price, dict(params or {}))
        if self._core.needs_price(call):
            self._core.observe_ticker(self._exchange.fetch_ticker(symbol))
        try:
            with self._core.gate.lock:  # held while sending: a kill cannot slip between check and send
                result = self._core.decide(call)
                assert result.order is not None
                if result.code != "APPROVED":
                    return self._core.paper_order(result.order.id)
                sent, client_id = self._core.live_params(call, result.order)
                row: dict[str, Any] = self._exchange.create_order(symbol, type, side, amount, price, sent)
                self._core.live.track(row, client_id, result.order)
                return row
        finally:
            self._core.after_order()  # outside the lock: a tripped breaker's kill reaction takes it

    def create_orders(self, orders: list[dict[str, Any]], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Each order goes through create_order: decided on its own, with its own client id."""
        return [
            self.create_order(
                o["symbol"],
                o["type"],
                o["side"],
                o["amount"],
                o.get("price"),
                {**(params or {}), **o.get("params", {})},
            )
            for o in orders
        ]

    def edit_order(
        self,
        id: str,
        symbol: str,
        type: str,
        side: str,
        amount: float | None = None,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An edit is decided like a new order. Paper: cancel and replace. Live: only the
        bot's own orders (placed through this guard) may be edited."""
        if amount is None:
            raise self._core.refuse_method("edit_order without an amount", "order_unknown")
        call = OrderCall(symbol, type, side, amount, price, dict(params or {}))
        with self._core.gate.lock:
            if self._core.is_paper_id(id):
                self._core.paper_cancel(id)
                return self.create_order(symbol, type, side, amount, price, params)
            if not self._core.live.owns(id):
                raise OrderRefused(
                    "NOT_OWN_ORDER",
                    f"order {id} was not placed through this guard (or is no longer open): NIJA never edits "
                    "orders the bot did not create through it; cancel it and place a new order",
                )
            result = self._core.decide(call)
            assert result.order is not None
            if result.code != "APPROVED":
                return self._core.paper_order(result.order.id)
            sent, client_id = self._core.live_params(call, result.order)
            row: dict[str, Any] = self._exchange.edit_order(id, symbol, type, side, amount, price, sent)
            if str(row.get("id")) != id:
                self._core.live.forget(id)
            self._core.live.track(row, client_id, result.order)
            return row

    # -- cancels: always pass ----------------------------------------------------------------
    def cancel_order(self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        if self._core.is_paper_id(id):
            return self._core.paper_cancel(id)
        row = self._exchange.cancel_order(id, symbol, params or {})
        self._core.live.forget(id)
        return row

    def cancel_orders(self, ids: list[str], symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        return [self.cancel_order(i, symbol, params) for i in ids]

    def cancel_all_orders(self, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        """Cancels the orders the bot placed through this guard (paper and live), not the
        whole account's: orders others placed are not the bot's to cancel."""
        paper = [o.id for o in self._core.paper.open_orders() if symbol is None or o.symbol == symbol]
        live = [o for o in self._core.live.own_open() if symbol is None or o.symbol == symbol]
        return [self.cancel_order(i) for i in paper] + [self.cancel_order(o.id, o.symbol, params) for o in live]

    # -- private reads: the paper ledger in DRY_RUN -----------------------------------------
    def fetch_order(self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        if self._core.is_paper_id(id):
            self._refresh_paper()
            return self._core.paper_order(id)
        row = self._exchange.fetch_order(id, symbol, params or {})
        self._core.live.observe(row)
        return row

    def fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        if self._core.answers_from_paper():
            self._refresh_paper()
            return self._core.paper_orders(symbol, OrderStatus.OPEN)
        return self._exchange.fetch_open_orders(symbol, since, limit, params or {})

    def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        if self._core.answers_from_paper():
            self._refresh_paper()
            return self._core.paper_orders(symbol, None, closed_only=True)
        return self._exchange.fetch_closed_orders(symbol, since, limit, params or {})

    def fetch_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        if self._core.answers_from_paper():
            self._refresh_paper()
            return self._core.paper_orders(symbol, None)
        return self._exchange.fetch_orders(symbol, since, limit, params or {})

    def fetch_balance(self, params: dict[str, Any] | None = None) -> Any:
        if self._core.answers_from_paper():
            self._refresh_paper()
            return self._core.paper_balance()
        return self._exchange.fetch_balance(params or {})

    def fetch_positions(self, symbols: list[str] | None = None, params: dict[str, Any] | None = None) -> Any:
        if self._core.answers_from_paper():
            return self._core.paper_positions(symbols)
        return self._exchange.fetch_positions(symbols, params or {})

    def _refresh_paper(self) -> None:
        """Open paper orders fill on prices: look them up (public data) before answering."""
        for symbol in sorted(self._core.paper_symbols_open()):
            # No new price: the book stays as it is and says so through its statuses.
            with contextlib.suppress(ccxt.BaseError):
                self._core.observe_ticker(self._exchange.fetch_ticker(symbol))
