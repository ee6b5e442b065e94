"""Where candles come from.

- ``sample``: the synthetic sample shipped with the package (``runtime/data/``);
- ``csv``: a replay of any CSV of candles (``timestamp,symbol,open,high,low,close,volume``;
  ``#`` lines are comments; the timestamp is epoch seconds, epoch milliseconds or ISO 8601);
- ``ccxt``: live public prices from an exchange, polled (needs the network).

A feed is an iterator of candles; ``Freshness`` tells the gate when prices are stale."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from nija.domain.errors import NijaError, UsageProblem
from nija.runtime.candles import Candle
from nija.runtime.settings import ExchangeSettings, FeedSettings

SAMPLE_FILE = "sample_candles.csv"
HEADER = ("timestamp", "symbol", "open", "high", "low", "close", "volume")


def sample_path() -> Path:
    return Path(str(resources.files("nija.runtime") / "data" / SAMPLE_FILE))


def read_csv(path: Path, symbols: tuple[str, ...] = ()) -> list[Candle]:
    """Parse a candle CSV; a bad line is refused with its number and the expected format."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"Cannot read the candle file {path}: {exc}", "Check feed.path / --feed") from exc
    wanted = set(symbols)
    candles: list[Candle] = []
    rows = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        for parts in rows:
            number = rows.line_num
            if not parts or not "".join(parts).strip() or parts[0].lstrip().startswith("#"):
                continue
            if parts[0].strip() == "timestamp":
                continue
            if len(parts) != len(HEADER):
                raise _bad_line(path, number, f"expected {len(HEADER)} columns, found {len(parts)}")
            symbol = parts[1].strip()
            if wanted and symbol not in wanted:
                continue
            try:
                o, h, low, c, v = (float(x) for x in parts[2:])
                candle = Candle(_parse_time(parts[0].strip()), symbol, o, h, low, c, v)
            except ValueError as exc:
                raise _bad_line(path, number, str(exc)) from exc
            if not (low <= min(o, c) and h >= max(o, c) and low > 0):
                raise _bad_line(path, number, "prices must satisfy 0 < low <= open, close <= high")
            candles.append(candle)
    except csv.Error as exc:
        raise _bad_line(path, rows.line_num, f"not valid CSV: {exc}") from exc
    if not candles:
        raise UsageProblem(
            f"The candle file {path} has no candles" + (f" for {', '.join(symbols)}" if symbols else ""),
            "Check the file and feed.symbols",
        )
    candles.sort(key=lambda c: c.timestamp)  # stable: keeps the file order within one time
    return candles


def _parse_time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return value / 1000 if value > 10_000_000_000 else value


def _bad_line(path: Path, number: int, detail: str) -> UsageProblem:
    return UsageProblem(
        f"Bad candle in {path} line {number}: {detail}",
        f"Each line must be {','.join(HEADER)} (timestamp in epoch seconds, milliseconds or ISO 8601)",
    )


def replay_candles(settings: FeedSettings, override: Path | None = None) -> tuple[list[Candle], str]:
    """The candles of a replay feed and a label for the summary."""
    if override is not None:
        return read_csv(override, settings.symbols), f"CSV replay {override}"
    if settings.kind == "csv":
        assert settings.path is not None
        return read_csv(settings.path, settings.symbols), f"CSV replay {settings.path}"
    return read_csv(sample_path(), settings.symbols), "shipped sample (synthetic, seeded model)"


class Freshness:
    """Stale data stops new orders: the newest price is older than ``stale_after_s``.

    The age is measured from the candle's own time: by the wall clock for live prices
    (an exchange serving old candles is stale too), by the feed's clock in a replay."""

    def __init__(self, stale_after_s: float, clock: Callable[[], float]) -> None:
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._last: float | None = None

    def saw_price(self, at: float) -> None:
        self._last = at if self._last is None else max(self._last, at)

    def veto(self, *_: object) -> tuple[str, str] | None:
        if self._last is None:
            return ("STALE_DATA", "no price has been received yet")
        age = self._clock() - self._last
        if age > self.stale_after_s:
            return ("STALE_DATA", f"no new price for {age:.0f} s (limit {self.stale_after_s:g} s)")
        return None


def ccxt_candles(
    feed: FeedSettings,
    exchange: ExchangeSettings,
    *,
    stop: Callable[[], bool],
    on_error: Callable[[str], None],
    client: Any = None,
) -> Iterator[Candle]:
    """Poll closed candles of every symbol; yields each new one once. Needs the network."""
    import ccxt

    if not feed.symbols:
        raise UsageProblem("feed.kind = 'ccxt' needs feed.symbols", 'Set feed.symbols = ["BTC/USDT"] in nija.toml')
    if client is None:
        client = getattr(ccxt, exchange.id)({"enableRateLimit": True, "timeout": exchange.timeout_ms})
    seen: dict[str, float] = {}
    while not stop():
        for symbol in feed.symbols:
            try:
                rows = client.fetch_ohlcv(symbol, feed.timeframe, limit=3)
            except ccxt.BaseError as exc:
                on_error(f"{exchange.id} fetch_ohlcv {symbol}: {type(exc).__name__}: {exc}")
                continue
            for ts, o, h, low, c, v in rows[:-1]:  # the last candle is still forming
                if ts / 1000 > seen.get(symbol, 0.0):
                    seen[symbol] = ts / 1000
                    yield Candle(ts / 1000, symbol, o, h, low, c, v or 0.0)
        deadline = time.monotonic() + feed.poll_s
        while time.monotonic() < deadline and not stop():
            time.sleep(0.05)


__all__ = ["Freshness", "NijaError", "ccxt_candles", "read_csv", "replay_candles", "sample_path"]
