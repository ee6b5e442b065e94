"""Small builders shared by the runtime tests."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

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


Run = Callable[..., subprocess.CompletedProcess[str]]


REPO = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """Like tests/conftest.py's cli_env: the repo's src first, no colour, no NIJA_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIJA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(NO_COLOR="1", PYTHONIOENCODING="utf-8", COLUMNS="200")
    return env


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
