"""Small builders shared by the runtime tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from nija.runtime.candles import Candle


def candle(price: float, symbol: str = "BTC/USDT", t: float = 0.0, *, low: float | None = None,
           high: float | None = None, open_: float | None = None) -> Candle:
    o = price if open_ is None else open_
    return Candle(t, symbol, o, max(o, price) if high is None else high, min(o, price) if low is None else low,
                  price, 1.0)


Run = Callable[..., subprocess.CompletedProcess[str]]
