"""A real bot running in a background thread on a fresh DRY_RUN data directory, for the
kill benchmarks: the sample feed replays in a loop (1 ms per candle) while the
benchmark places its own resting limit orders through the bot's gate."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from nija.assembly import build_service
from nija.config import NijaConfig
from nija.domain.transitions import Who
from nija.runtime.brokers.base import Broker
from nija.runtime.candles import Candle
from nija.runtime.engine import Bot
from nija.runtime.feeds import read_csv, sample_path
from nija.runtime.orders import OrderRequest, OrderType, PlaceResult, Side
from nija.runtime.settings import RiskSettings
from nija.runtime.strategy import Action, build_strategy

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = Who("bench@host", "cli")
# A symbol whose price the feed holds at 1.0 (a reference for the price collar, never a
# crossover for the strategy): resting buys at 0.5 never fill. The pre-trade controls are
# opened wide because these benchmarks measure the kill path, and a storm of orders would
# otherwise be stopped by the runaway breaker itself.
RESTING_SYMBOL = "BENCH/USDT"
WIDE_OPEN = RiskSettings(
    max_consecutive_losses=10**6,
    max_drawdown_pct=100,
    price_collar_pct=100,
    max_submits_per_s=10**9,
    max_open_orders=10**9,
    max_daily_orders=10**9,
    max_daily_notional=1e15,
    max_identical_orders=10**9,
    runaway_max_denials=10**9,
    max_order_to_fill_ratio=1e12,
)


class _LeavesBenchAlone:
    """The built-in strategy on the sample's symbols; the benchmark's resting orders are
    its own (the strategy would cancel pending buys on a flat market)."""

    def __init__(self, config: NijaConfig) -> None:
        self._inner = build_strategy(config.strategy)

    def on_candle(self, candle: Candle, book: Broker) -> list[Action]:
        return [] if candle.symbol == RESTING_SYMBOL else self._inner.on_candle(candle, book)


class RunningBot:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.config = NijaConfig(risk=WIDE_OPEN)
        self.service = build_service(data_dir, config=self.config)
        self.service.restore(OPERATOR)
        self.bot = Bot(self.service, self.config, data_dir, actor="bench", strategy=_LeavesBenchAlone(self.config))
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.bot.run(self._feed(), pace_s=0.001)

    def _feed(self) -> Iterator[Candle]:
        for candle in itertools.cycle(read_csv(sample_path())):
            yield candle
            yield Candle(candle.timestamp, RESTING_SYMBOL, 1.0, 1.0, 1.0, 1.0, 1.0)

    def __enter__(self) -> RunningBot:
        self._thread.start()
        self.wait(lambda: self.bot.reaction.mode is not None and self.bot.counters.candles > 2)  # BENCH priced
        return self

    def __exit__(self, *exc: object) -> None:
        self.bot.stop_event.set()
        self._thread.join(timeout=30)

    def place(self) -> PlaceResult:
        return self.bot.place(OrderRequest(RESTING_SYMBOL, Side.BUY, OrderType.LIMIT, 0.01, 0.5))

    def open_orders(self) -> int:
        return len(self.bot.paper.open_orders())

    def activate_in_another_process(self) -> None:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "emergency_kill_switch.py"),
                "activate",
                "--data-dir",
                str(self.data_dir),
                "benchmark kill",
            ],
            check=True,
            capture_output=True,
        )

    def recover(self) -> None:
        """Deactivate and restore to DRY_RUN, then wait for the bot to see it."""
        self.service.deactivate_kill("benchmark trial done", OPERATOR)
        self.service.restore(OPERATOR)
        self.wait(lambda: not self.bot.reaction.kill.active and self.bot.reaction.mode is not None)

    @staticmethod
    def wait(predicate: object, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not get there in time")
            time.sleep(0.001)
