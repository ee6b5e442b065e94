"""Reference prices: the last trade (or mid) the feed saw for each symbol, and when.

A reference that is NaN, infinite, zero or negative is *missing*, never "no limit": the
newest observation wins even when it is bad, so a bad tick cannot hide behind the good
one before it. Time is whatever clock the caller uses (feed time in a replay)."""

from __future__ import annotations

import math
from typing import NamedTuple

_INF = math.inf


def usable_price(value: object) -> bool:
    """A price a control may compute with: a finite number above zero (bools excluded).
    The chained comparison is False for NaN and for infinity."""
    kind = type(value)
    return (kind is float or kind is int) and 0 < value < _INF  # type: ignore[operator]


class Reference(NamedTuple):  # a tuple: made for every candle, so it must be cheap
    price: float
    at: float  # seconds since the epoch on the controls' clock
    source: str = "last trade"

    @property
    def usable(self) -> bool:
        at = self.at
        return usable_price(self.price) and (type(at) is float or type(at) is int) and -_INF < at < _INF


class ReferenceBook:
    """The newest reference per symbol, fed by the bot loop (``observe``, on every candle:
    it stores a plain tuple) and read by the controls (``get``, on every order)."""

    __slots__ = ("_latest",)

    def __init__(self) -> None:
        self._latest: dict[str, tuple[float, float, str]] = {}

    def observe(self, symbol: str, price: float, at: float, source: str = "last trade") -> None:
        """Record the newest price of ``symbol``, usable or not: a bad one replaces the
        previous one too (the symbol has no reference until a good price)."""
        previous = self._latest.get(symbol)
        if previous is None or not at < previous[1]:  # an out-of-order older print never wins
            self._latest[symbol] = (price, at, source)

    def get(self, symbol: str) -> Reference | None:
        entry = self._latest.get(symbol)
        return None if entry is None else Reference(*entry)
