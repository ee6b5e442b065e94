"""``nija.guard`` for a ``ccxt.async_support`` exchange.

Orders are decided and sent under one ``asyncio.Lock`` that the watcher task also takes
before it cancels, so a kill either sees an order (and cancels it) or the order sees the
kill (and is refused). The watcher task runs on the bot's event loop (it starts with the
first awaited call if the guard was built outside a running loop): a bot that blocks
its loop also delays the reaction, so keep blocking work off it. With API keys a second
task keeps the exchange account check (guarded/account.py) fresh, as the sync guard's thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import ccxt

from nija.domain.states import Mode
from nija.guarded.account import AccountChecks, AsyncGuardAccountWatch
from nija.guarded.call import Approved, OrderCall
from nija.guarded.core import GuardCore
from nija.guarded.facade import GuardFacade, each_order
from nija.guarded.params import require_no_order_keys
from nija.runtime.brokers.exchange import describe
from nija.runtime.orders import OrderStatus

log = logging.getLogger(__name__)
TICK_S = 0.25  # as nija run's watcher: the poll and the heartbeat clock


class AsyncGuardedExchange(GuardFacade):
    """Behaves like the wrapped async ccxt exchange; see docs/guard.md."""

    _OWN = frozenset({"_exchange", "_core", "_lock", "_task", "_stop", "_account", "_account_task"})
    _lock: asyncio.Lock
    _task: asyncio.Task[None] | None
    _stop: asyncio.Event
    _account: AsyncGuardAccountWatch | None
    _account_task: asyncio.Task[None] | None

    def __init__(self, exchange: Any, core: GuardCore) -> None:
        object.__setattr__(self, "_exchange", exchange)
        object.__setattr__(self, "_core", core)
        object.__setattr__(self, "_lock", asyncio.Lock())
        object.__setattr__(self, "_task", None)
        object.__setattr__(self, "_stop", asyncio.Event())
        account = None
        if getattr(exchange, "apiKey", None):  # with keys: the reconciliation a live request needs
            checks = AccountChecks(str(exchange.id), core.quote, core.data_dir, core.alert)
            account = AsyncGuardAccountWatch(
                exchange, core.live, checks, every_s=core.config.exchange.reconcile_s, lock=self._lock
            )
        object.__setattr__(self, "_account", account)
        object.__setattr__(self, "_account_task", None)
        core.start()
        with contextlib.suppress(RuntimeError):  # no running loop yet: started by the first call
            self._ensure_watcher()

    async def __aenter__(self) -> AsyncGuardedExchange:
        self._ensure_watcher()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if not self._core.closed:
            self._stop.set()
            await self._finish_task("_task")
            await self._finish_task("_account_task")  # after the watcher: it starts this one
            async with self._lock:
                await self._react()
                self._core.finish()
        await self._exchange.close()

    async def _finish_task(self, name: str) -> None:
        task = getattr(self, name)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=5)

    # -- the watcher -------------------------------------------------------------------
    def _ensure_watcher(self) -> None:
        if self._task is None and not self._core.closed:
            task = asyncio.get_running_loop().create_task(self._watch(), name="nija-guard-watcher")
            object.__setattr__(self, "_task", task)

    async def _watch(self) -> None:
        """The store's change feed (inotify, LISTEN/NOTIFY) as nija run's watcher uses it,
        waited on in a worker thread so the bot's loop never blocks on it."""
        await self._adopt_own_orders()
        if self._account is not None:  # after the adoption: a crashed run's orders count as the bot's own
            task = asyncio.get_running_loop().create_task(self._account.run(self._stop), name="nija-guard-account")
            object.__setattr__(self, "_account_task", task)
        await self._check()
        try:
            feed = self._core.run.service.store.changes()
        except Exception as exc:  # noqa: BLE001 - poll rather than go blind
            self._core.alert("WATCH_FAILED", f"the change feed could not start ({exc}); checking every 0.25 s")
            feed = None
        try:
            while not self._stop.is_set():
                if feed is not None:
                    await asyncio.to_thread(feed.wait, TICK_S)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), timeout=TICK_S)
                await self._check()
        finally:
            if feed is not None:
                feed.close()

    async def _adopt_own_orders(self) -> None:
        """Orders a crashed run of this bot left open are its own (see the sync guard)."""
        if not getattr(self._exchange, "apiKey", None) or not self._exchange.has.get("fetchOpenOrders"):
            return
        try:
            rows = await self._exchange.fetch_open_orders()
        except ccxt.BaseError as exc:
            self._core.alert("ADOPT_FAILED", f"open orders of a previous run could not be read: {describe(exc).reason}")
            return
        self._core.adopt(rows)

    async def _check(self) -> None:
        try:
            async with self._lock:
                await self._react()
        except Exception:
            log.exception("guard reaction failed")
        try:
            self._core.tick()
        except Exception:
            log.exception("guard tick failed")

    async def _react(self) -> None:
        """Cancel the bot's own live orders unless LIVE_ACTIVE, then the shared (paper) reaction."""
        permission = self._core.permission()
        if not (permission.allowed and permission.mode is Mode.LIVE):
            for attempt in range(1, self._core.config.bot.cancel_retries + 1):
                failed = []
                for order in self._core.live.own_open():
                    try:
                        await self._exchange.cancel_order(order.id, order.symbol)
                    except ccxt.OrderNotFound:
                        pass
                    except ccxt.BaseError as exc:
                        failed.append(f"{order.id}: {describe(exc).reason}")
                        continue
                    self._core.live.forget(order.id)
                if not failed:
                    break
                self._core.alert(
                    "CANCEL_FAILED",
                    f"{self._core.live.name}: {len(failed)} cancel(s) failed on attempt {attempt} "
                    f"({permission.reason}): {'; '.join(failed[:5])}",
                )
                await asyncio.sleep(min(0.05 * 2 ** (attempt - 1), 1.0))
            if self._core.live.own_open() and permission.code == "KILL_SWITCH_ACTIVE":
                self._core.alert(
                    "KILL_INCOMPLETE",
                    f"KILL NOT COMPLETE: {len(self._core.live.own_open())} live order(s) still open; retrying. "
                    "Check the exchange now.",
                )
        with self._core.gate.lock:
            self._core.on_permission(permission)

    # -- helpers -------------------------------------------------------------------------
    def _live_only(self, name: str, method: Any) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self._ensure_watcher()
            async with self._lock:
                permission = self._core.permission()
                if not (permission.allowed and permission.mode is Mode.LIVE):
                    raise self._core.refuse_method(name, "live_only")
                return await method(*args, **kwargs)

        return call

    def _observing(self, method: Any) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await method(*args, **kwargs)
            self._core.observe_tickers(result)
            return result

        return call

    # -- orders --------------------------------------------------------------------------
    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self._ensure_watcher()
        require_no_order_keys("create_order", params, new_order=True)
        call = OrderCall(symbol, type, side, amount, price, dict(params or {}))
        if self._core.needs_price(call):
            self._core.observe_ticker(await self._exchange.fetch_ticker(symbol))
        try:
            async with self._lock:
                with self._core.gate.lock:
                    approved = self._core.approve(call)
                if not isinstance(approved, Approved):
                    return approved  # the paper order
                row = await self._exchange.create_order(symbol, type, side, amount, price, approved.params)
                return self._core.sent(row, approved)
        finally:
            self._core.after_order()

    async def create_orders(
        self, orders: list[dict[str, Any]], params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return [await self.create_order(*args) for args in each_order(orders, params)]

    async def edit_order(
        self,
        id: str,
        symbol: str,
        type: str,
        side: str,
        amount: float | None = None,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        require_no_order_keys("edit_order", params)
        if amount is None:
            raise self._core.refuse_method("edit_order without an amount", "order_unknown")
        if self._core.is_paper_id(id):
            self._core.paper_cancel(id)
            return await self.create_order(symbol, type, side, amount, price, params)
        call = OrderCall(symbol, type, side, amount, price, dict(params or {}))
        async with self._lock:
            self._core.require_own(id, symbol)
            with self._core.gate.lock:
                approved = self._core.approve(call)
            if not isinstance(approved, Approved):
                return approved  # the paper order
            row = await self._exchange.edit_order(id, symbol, type, side, amount, price, approved.params)
            return self._core.sent(row, approved, replaced=id)

    # -- cancels: the bot's own orders only, in every state -------------------------------------
    async def cancel_order(self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        require_no_order_keys("cancel_order", params)  # ccxt sends params over the id checked below
        if self._core.is_paper_id(id):
            return self._core.paper_cancel(id)
        self._core.require_cancellable([id], symbol)
        row = await self._exchange.cancel_order(id, symbol, params or {})
        self._core.live.forget(id)
        return row

    async def cancel_orders(
        self, ids: list[str], symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        require_no_order_keys("cancel_orders", params)
        self._core.require_cancellable(ids, symbol)  # the whole batch, before any is sent
        return [await self.cancel_order(i, symbol, params) for i in ids]

    async def cancel_all_orders(self, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        """The bot's own orders through this guard only (see the sync guard)."""
        require_no_order_keys("cancel_all_orders", params)
        paper, live = self._core.own_open(symbol)
        return [await self.cancel_order(i) for i in paper] + [
            await self.cancel_order(o.id, o.symbol, params) for o in live
        ]

    async def cancel_order_with_client_order_id(
        self, client_order_id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        """Only a client id the guard sent (or a paper order's): cancelled by its order id."""
        require_no_order_keys("cancel_order_with_client_order_id", params)
        return await self.cancel_order(self._core.own_id_for_client(client_order_id, symbol), symbol, params)

    async def cancel_orders_with_client_order_ids(
        self, client_order_ids: list[str], symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        require_no_order_keys("cancel_orders_with_client_order_ids", params)
        ids = [self._core.own_id_for_client(c, symbol) for c in client_order_ids]  # all, before any is sent
        return await self.cancel_orders(ids, symbol, params)

    async def cancel_orders_for_symbols(
        self, orders: list[dict[str, Any]], params: dict[str, Any] | None = None
    ) -> Any:
        require_no_order_keys("cancel_orders_for_symbols", params)
        return [await self.cancel_order(i, s, params) for i, s in self._core.cancellations(orders)]

    async def cancel_all_orders_after(self, timeout: int, params: dict[str, Any] | None = None) -> Any:
        """Disarming the exchange's account-wide timer only, in every state (see GuardCore.timer_write)."""
        if not self._core.timer_write(timeout, params):
            return {"info": {"nija": "paper"}, "timeout": 0}  # simulating: nothing sent
        return await self._exchange.cancel_all_orders_after(0)

    # -- private reads -------------------------------------------------------------------------
    async def fetch_order(self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None) -> Any:
        require_no_order_keys("fetch_order", params)
        if self._core.is_paper_id(id):
            await self._refresh_paper()
            return self._core.paper_order(id)
        self._core.require_shown(id, symbol)
        row = await self._exchange.fetch_order(id, symbol, params or {})
        self._core.live.observe(row)
        return row

    async def fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        return await self._orders("fetch_open_orders", symbol, since, limit, params, OrderStatus.OPEN)

    async def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        return await self._orders("fetch_closed_orders", symbol, since, limit, params, None, closed_only=True)

    async def fetch_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> Any:
        return await self._orders("fetch_orders", symbol, since, limit, params, None)

    async def _orders(
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
            await self._refresh_paper()
            return self._core.paper_orders(symbol, status, closed_only=closed_only)
        return self._core.shown_orders(await getattr(self._exchange, name)(symbol, since, limit, params or {}))

    async def fetch_balance(self, params: dict[str, Any] | None = None) -> Any:
        if self._core.answers_from_paper():
            await self._refresh_paper()
            return self._core.paper_balance()
        return await self._exchange.fetch_balance(params or {})

    async def fetch_positions(self, symbols: list[str] | None = None, params: dict[str, Any] | None = None) -> Any:
        if self._core.answers_from_paper():
            return self._core.paper_positions(symbols)
        return await self._exchange.fetch_positions(symbols, params or {})

    async def _refresh_paper(self) -> None:
        for symbol in sorted(self._core.paper_symbols_open()):
            with contextlib.suppress(ccxt.BaseError):
                self._core.observe_ticker(await self._exchange.fetch_ticker(symbol))
