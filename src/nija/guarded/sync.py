"""``nija.guard`` for a synchronous ccxt exchange: the object the bot trades through."""

from __future__ import annotations

import contextlib
from typing import Any

import ccxt

from nija.domain.states import Mode
from nija.guarded.account import AccountChecks, GuardAccountWatch
from nija.guarded.call import Approved, OrderCall
from nija.guarded.core import GuardCore
from nija.guarded.facade import GuardFacade, each_order
from nija.guarded.params import require_no_order_keys
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
            checks = AccountChecks(str(exchange.id), core.quote, core.data_dir, core.alert)
            account = GuardAccountWatch(
                exchange, core.live, checks, every_s=core.config.exchange.reconcile_s, lock=core.gate.lock
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
            self._core.observe_tickers(result)
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
        require_no_order_keys("create_order", params, new_order=True)
        call = OrderCall(symbol, type, side, amount, price, dict(params or {}))
        if self._core.needs_price(call):
            self._core.observe_ticker(self._exchange.fetch_ticker(symbol))
        try:
            with self._core.gate.lock:  # held while sending: a kill cannot slip between check and send
                approved = self._core.approve(call)
                if not isinstance(approved, Approved):
                    return approved  # the paper order
                row = self._exchange.create_order(symbol, type, side, amount, price, approved.params)
                return self._core.sent(row, approved)
        finally:
            self._core.after_order()  # outside the lock: a tripped breaker's kill reaction takes it

    def create_orders(self, orders: list[dict[str, Any]], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Each order goes through create_order: decided on its own, with its own client id."""
        return [self.create_order(*args) for args in each_order(orders, params)]

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
        require_no_order_keys("edit_order", params)
        if amount is None:
            raise self._core.refuse_method("edit_order without an amount", "order_unknown")
        call = OrderCall(symbol, type, side, amount, price, dict(params or {}))
        with self._core.gate.lock:
            if self._core.is_paper_id(id):
                self._core.paper_cancel(id)
                return self.create_order(symbol, type, side, amount, price, params)
            self._core.require_own(id, symbol)
            approved = self._core.approve(call)
            if not isinstance(approved, Approved):
                return approved  # the paper order
            row = self._exchange.edit_order(id, symbol, type, side, amount, price, approved.params)
            return self._core.sent(row, approved, replaced=id)

    # -- cancels: the bot's own orders only, in every state -------------------------------------
    def cancel_order(self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        require_no_order_keys("cancel_order", params)  # ccxt sends params over the id checked below
        if self._core.is_paper_id(id):
            return self._core.paper_cancel(id)
        self._core.require_cancellable([id], symbol)
        row = self._exchange.cancel_order(id, symbol, params or {})
        self._core.live.forget(id)
        return row

    def cancel_orders(self, ids: list[str], symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        require_no_order_keys("cancel_orders", params)
        self._core.require_cancellable(ids, symbol)  # the whole batch, before any is sent
        return [self.cancel_order(i, symbol, params) for i in ids]

    def cancel_all_orders(self, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        """Cancels the orders the bot placed through this guard (paper and live), not the
        whole account's: orders others placed are not the bot's to cancel."""
        require_no_order_keys("cancel_all_orders", params)
        paper, live = self._core.own_open(symbol)
        return [self.cancel_order(i) for i in paper] + [self.cancel_order(o.id, o.symbol, params) for o in live]

    def cancel_order_with_client_order_id(
        self, client_order_id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        """Only a client id the guard sent (or a paper order's): cancelled by its order id."""
        require_no_order_keys("cancel_order_with_client_order_id", params)
        return self.cancel_order(self._core.own_id_for_client(client_order_id, symbol), symbol, params)

    def cancel_orders_with_client_order_ids(
        self, client_order_ids: list[str], symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        require_no_order_keys("cancel_orders_with_client_order_ids", params)
        ids = [self._core.own_id_for_client(c, symbol) for c in client_order_ids]  # all, before any is sent
        return self.cancel_orders(ids, symbol, params)

    def cancel_orders_for_symbols(self, orders: list[dict[str, Any]], params: dict[str, Any] | None = None) -> Any:
        require_no_order_keys("cancel_orders_for_symbols", params)
        return [self.cancel_order(i, s, params) for i, s in self._core.cancellations(orders)]

    def cancel_all_orders_after(self, timeout: int, params: dict[str, Any] | None = None) -> Any:
        """Disarming the exchange's account-wide timer only, in every state (see GuardCore.timer_write)."""
        if not self._core.timer_write(timeout, params):
            return {"info": {"nija": "paper"}, "timeout": 0}  # simulating: nothing sent
        return self._exchange.cancel_all_orders_after(0)

    # -- private reads: the paper ledger in DRY_RUN -----------------------------------------
    def fetch_order(self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        require_no_order_keys("fetch_order", params)
        if self._core.is_paper_id(id):
            self._refresh_paper()
            return self._core.paper_order(id)
        self._core.require_shown(id, symbol)
        row = self._exchange.fetch_order(id, symbol, params or {})
        self._core.live.observe(row)
        return row

    def fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        return self._orders("fetch_open_orders", symbol, since, limit, params, OrderStatus.OPEN)

    def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        return self._orders("fetch_closed_orders", symbol, since, limit, params, None, closed_only=True)

    def fetch_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        return self._orders("fetch_orders", symbol, since, limit, params, None)

    def _orders(
        self,
        name: str,
        symbol: str | None,
        since: int | None,
        limit: int | None,
        params: Any,
        status: OrderStatus | None,
        *,
        closed_only: bool = False,
    ) -> Any:
        """DRY_RUN: the paper ledger's orders; a verified LIVE_ACTIVE: the exchange's answer;
        otherwise (a kill after live) the bot's own orders in the exchange's answer."""
        if self._core.answers_from_paper():
            self._refresh_paper()
            return self._core.paper_orders(symbol, status, closed_only=closed_only)
        return self._core.shown_orders(getattr(self._exchange, name)(symbol, since, limit, params or {}))

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
