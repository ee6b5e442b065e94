"""The strategy interface and the built-in moving-average crossover.

A strategy sees each candle and the active broker's book for that symbol and returns
actions; it never talks to a broker itself, so every order goes through the gate."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

from nija.runtime.brokers.base import Broker
from nija.runtime.candles import Candle
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.settings import StrategySettings


@dataclass(frozen=True, slots=True)
class Place:
    request: OrderRequest


@dataclass(frozen=True, slots=True)
class Cancel:
    order_id: str
    reason: str


Action = Place | Cancel


class Strategy(Protocol):
    def on_candle(self, candle: Candle, book: Broker) -> list[Action]: ...


class _Averages:
    """Running simple moving averages over the last ``fast`` and ``slow`` closes (O(1) per candle)."""

    __slots__ = ("fast", "fast_sum", "fast_window", "slow", "slow_sum", "slow_window")

    def __init__(self, fast: int, slow: int) -> None:
        self.fast, self.slow = fast, slow
        self.fast_window: deque[float] = deque()
        self.slow_window: deque[float] = deque()
        self.fast_sum = self.slow_sum = 0.0

    def push(self, close: float) -> tuple[float, float] | None:
        self.fast_window.append(close)
        self.slow_window.append(close)
        self.fast_sum += close
        self.slow_sum += close
        if len(self.fast_window) > self.fast:
            self.fast_sum -= self.fast_window.popleft()
        if len(self.slow_window) > self.slow:
            self.slow_sum -= self.slow_window.popleft()
        if len(self.slow_window) < self.slow:
            return None
        return self.fast_sum / self.fast, self.slow_sum / self.slow


class SmaCrossover:
    """Long-only trend following: hold while the fast average is above the slow one.

    Entry: when fast > slow by ``min_spread_pct`` (less whipsaw) and nothing is held or
    pending, buy ``position_pct`` of equity with a limit order ``limit_offset_pct`` below
    the close (or a market order).
    Exit: when fast <= slow, cancel a pending entry and sell the holding at market."""

    def __init__(self, settings: StrategySettings) -> None:
        self.settings = settings
        self._averages: dict[str, _Averages] = {}
        self._entry_factor = 1 + settings.min_spread_pct / 100

    def on_candle(self, candle: Candle, book: Broker) -> list[Action]:
        averages = self._averages.get(candle.symbol)
        if averages is None:
            averages = self._averages[candle.symbol] = _Averages(self.settings.fast, self.settings.slow)
        pair = averages.push(candle.close)
        if pair is None:
            return []
        fast, slow = pair
        pending = book.open_for(candle.symbol)
        held = book.held(candle.symbol)
        if fast > slow * self._entry_factor:
            if held > 0 or pending:
                return []
            return self._entry(candle, book)
        actions: list[Action] = [Cancel(o.id, "trend turned down") for o in pending if o.side is Side.BUY]
        selling = any(o.side is Side.SELL for o in pending)
        if held > 0 and not selling:
            actions.append(Place(OrderRequest(candle.symbol, Side.SELL, OrderType.MARKET, held)))
        return actions

    def _entry(self, candle: Candle, book: Broker) -> list[Action]:
        s = self.settings
        budget = book.account().equity * s.position_pct / 100
        if s.order_type == "limit":
            price = candle.close * (1 - s.limit_offset_pct / 100)
            request = OrderRequest(candle.symbol, Side.BUY, OrderType.LIMIT, budget / price, price)
        else:
            request = OrderRequest(candle.symbol, Side.BUY, OrderType.MARKET, budget / candle.close)
        return [Place(request)] if budget > 0 else []


def build_strategy(settings: StrategySettings) -> Strategy:
    return SmaCrossover(settings)
