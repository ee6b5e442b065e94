"""What the sync and the async guard share: routing of the wrapped exchange's attributes,
and ccxt's helper variants spelled out so each one reaches the guard's own
``create_order``/``edit_order``. On the async guard a variant returns the coroutine of
the guarded call (awaited by the bot as ccxt's own would be)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from nija.guarded import methods
from nija.guarded.core import GuardCore
from nija.guarded.methods import Kind


def each_order(orders: list[dict[str, Any]], params: dict[str, Any] | None) -> list[tuple[Any, ...]]:
    """create_orders: each order's create_order arguments (decided on its own, own client id)."""
    return [
        (o["symbol"], o["type"], o["side"], o["amount"], o.get("price"), {**(params or {}), **o.get("params", {})})
        for o in orders
    ]


class GuardFacade:
    """Behaves like the wrapped exchange: reads pass, the guard's calls are its own,
    live-only calls need LIVE, every other call is refused."""

    _OWN: ClassVar[frozenset[str]]
    _exchange: Any
    _core: GuardCore
    # What each guard implements, sync or async (the variants below call them).
    _observing: Callable[[Any], Any]
    _live_only: Callable[[str, Any], Any]
    create_order: Callable[..., Any]
    edit_order: Callable[..., Any]

    @property
    def nija(self) -> GuardCore:
        """The guard's own state (run id, paper broker, gate counters, kill status)."""
        return self._core

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._exchange, name)
        if not callable(value):
            return value
        kind = methods.classify(name)
        snake = methods.snake(name)
        if kind is Kind.READ:
            return self._observing(value) if snake in ("fetch_ticker", "fetch_tickers") else value
        if kind in (Kind.ORDER, Kind.CANCEL, Kind.PRIVATE_READ) and hasattr(type(self), snake):
            return getattr(self, snake)  # camelCase spelling of a method the guard implements
        if kind is Kind.LIVE_ONLY:
            return self._live_only(name, value)
        raise self._core.refuse_method(name, "cancel_unknown" if kind is Kind.CANCEL_UNKNOWN else "order_unknown")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._OWN:
            raise AttributeError(f"{name} is the guard's own attribute")
        setattr(self._exchange, name, value)

    def __dir__(self) -> list[str]:
        own = {name for cls in type(self).__mro__[:-1] for name in cls.__dict__}
        return sorted(set(dir(self._exchange)) | own)

    def __repr__(self) -> str:
        return f"<nija.guard of {self._exchange!r}>"

    # -- ccxt's helper variants ----------------------------------------------------------
    def create_limit_order(self, symbol: str, side: str, amount: float, price: float, params: Any = None) -> Any:
        return self.create_order(symbol, "limit", side, amount, price, params)

    def create_market_order(
        self, symbol: str, side: str, amount: float, price: float | None = None, params: Any = None
    ) -> Any:
        return self.create_order(symbol, "market", side, amount, price, params)

    def create_limit_buy_order(self, symbol: str, amount: float, price: float, params: Any = None) -> Any:
        return self.create_order(symbol, "limit", "buy", amount, price, params)

    def create_limit_sell_order(self, symbol: str, amount: float, price: float, params: Any = None) -> Any:
        return self.create_order(symbol, "limit", "sell", amount, price, params)

    def create_market_buy_order(self, symbol: str, amount: float, params: Any = None) -> Any:
        return self.create_order(symbol, "market", "buy", amount, None, params)

    def create_market_sell_order(self, symbol: str, amount: float, params: Any = None) -> Any:
        return self.create_order(symbol, "market", "sell", amount, None, params)

    def create_post_only_order(
        self, symbol: str, type: str, side: str, amount: float, price: float | None = None, params: Any = None
    ) -> Any:
        return self.create_order(symbol, type, side, amount, price, {**(params or {}), "postOnly": True})

    def create_reduce_only_order(
        self, symbol: str, type: str, side: str, amount: float, price: float | None = None, params: Any = None
    ) -> Any:
        return self.create_order(symbol, type, side, amount, price, {**(params or {}), "reduceOnly": True})

    def create_stop_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        trigger_price: float | None = None,
        params: Any = None,
    ) -> Any:
        return self.create_order(symbol, type, side, amount, price, {**(params or {}), "stopPrice": trigger_price})

    def create_stop_limit_order(
        self, symbol: str, side: str, amount: float, price: float, trigger_price: float, params: Any = None
    ) -> Any:
        return self.create_stop_order(symbol, "limit", side, amount, price, trigger_price, params)

    def create_stop_market_order(
        self, symbol: str, side: str, amount: float, trigger_price: float, params: Any = None
    ) -> Any:
        return self.create_stop_order(symbol, "market", side, amount, None, trigger_price, params)

    def edit_limit_order(
        self, id: str, symbol: str, side: str, amount: float, price: float | None = None, params: Any = None
    ) -> Any:
        return self.edit_order(id, symbol, "limit", side, amount, price, params)

    def edit_limit_buy_order(
        self, id: str, symbol: str, amount: float, price: float | None = None, params: Any = None
    ) -> Any:
        return self.edit_order(id, symbol, "limit", "buy", amount, price, params)

    def edit_limit_sell_order(
        self, id: str, symbol: str, amount: float, price: float | None = None, params: Any = None
    ) -> Any:
        return self.edit_order(id, symbol, "limit", "sell", amount, price, params)
