"""One OHLCV candle."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candle:
    timestamp: float  # seconds since the epoch, start of the candle
    symbol: str
    open: float
    high: float
    low: float
    close: float
    volume: float
