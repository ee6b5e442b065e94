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
from nija.runtime.candles import Candle
from nija.runtime.engine import Bot
from nija.runtime.feeds import read_csv, sample_path
from nija.runtime.orders import OrderRequest, OrderType, PlaceResult, Side
from nija.runtime.settings import RiskSettings

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = Who("bench@host", "cli")
# A symbol the feed never moves, so neither fills nor the strategy touch these orders.
RESTING_BUY = OrderRequest("BENCH/USDT", Side.BUY, OrderType.LIMIT, 0.01, 1.0)


class RunningBot:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.config = NijaConfig(risk=RiskSettings(max_consecutive_losses=10**6, max_drawdown_pct=100))
        self.service = build_service(data_dir, config=self.config)
        self.service.restore(OPERATOR)
        self.bot = Bot(self.service, self.config, data_dir, actor="bench")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.bot.run(self._feed(), pace_s=0.001)

    def _feed(self) -> Iterator[Candle]:
        return itertools.cycle(read_csv(sample_path()))

    def __enter__(self) -> RunningBot:
        self._thread.start()
        self.wait(lambda: self.bot.reaction.mode is not None and self.bot.counters.candles > 0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.bot.stop_event.set()
        self._thread.join(timeout=30)

    def place(self) -> PlaceResult:
        return self.bot.place(RESTING_BUY)

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
