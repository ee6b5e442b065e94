"""Small builders shared by the runtime tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from nija.runtime.candles import Candle


def candle(
    price: float,
    symbol: str = "BTC/USDT",
    t: float = 0.0,
    *,
    low: float | None = None,
    high: float | None = None,
    open_: float | None = None,
) -> Candle:
    o = price if open_ is None else open_
    return Candle(
        t, symbol, o, max(o, price) if high is None else high, min(o, price) if low is None else low, price, 1.0
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
