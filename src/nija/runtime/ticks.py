"""Screening the feed's candles before any broker or strategy sees one."""

from __future__ import annotations

import math

from nija.runtime.candles import Candle
from nija.runtime.controls import ReferenceBook
from nija.runtime.store_writes import Alert


def _plain(text: str) -> str:
    """Feed text shown in alerts: control characters are shown escaped, never sent."""
    return text if text.isprintable() else repr(text)


def usable(candle: Candle, references: ReferenceBook, alert: Alert) -> bool:
    """Feed the reference book; a candle with an unusable price is reported and dropped.
    Its symbol then has no reference (the newest price was bad) until a good candle."""
    low, high = candle.low, candle.high
    # NaN fails every comparison (min/max would hide it); 0 < low and high < inf bound all four
    good = 0 < low <= candle.open <= high < math.inf and low <= candle.close <= high
    references.observe(candle.symbol, candle.close if good else float("nan"), candle.timestamp)
    if not good:
        alert(
            "DATA_QUALITY",
            f"bad tick {_plain(candle.symbol)} at {candle.timestamp!r}: open {candle.open!r} high {candle.high!r} "
            f"low {candle.low!r} close {candle.close!r}; its orders are denied until a good price",
        )
    return good
