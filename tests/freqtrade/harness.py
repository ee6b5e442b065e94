"""A real freqtrade (the PyPI package, in .venv-freqtrade, installed by
scripts/install_freqtrade.sh) in dry-run on loopback, with market data from the local
fake Kraken (tests/fakes/kraken_server.py) through freqtrade's own ccxt configuration.
Its strategy mixes in NIJA's entry guard; nothing of freqtrade is faked."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import REPO
from tests.fakes.kraken_server import FakeKraken

FREQTRADE = REPO / ".venv-freqtrade" / "bin" / "freqtrade"
USER, PASSWORD = "nija-test", "test-password-not-secret"

STRATEGY = '''
from freqtrade.strategy import IStrategy
from pandas import DataFrame

from nija.integrations.freqtrade.strategy import NijaEntryGuard


class Resting(NijaEntryGuard, IStrategy):
    """Wants to enter on every candle, with a limit 2 % under the market: entries rest open."""

    nija_data_dir = {data_dir!r}
    timeframe = "1m"
    minimal_roi = {{"0": 10}}
    stoploss = -0.5
    startup_candle_count = 10
    process_only_new_candles = False

    def populate_indicators(self, df: DataFrame, metadata: dict) -> DataFrame:
        return df

    def populate_entry_trend(self, df: DataFrame, metadata: dict) -> DataFrame:
        df["enter_long"] = 1
        return df

    def populate_exit_trend(self, df: DataFrame, metadata: dict) -> DataFrame:
        df["exit_long"] = 0
        return df

    def custom_entry_price(self, pair, trade, current_time, proposed_rate, entry_tag, side, **kwargs):
        return proposed_rate * 0.98
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Freqtrade:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}/api/v1{path}", auth=(USER, PASSWORD), timeout=10, **kwargs)
        return response.json()

    def state(self) -> str:
        return str(self.api("GET", "/show_config")["state"])

    def open_trades(self) -> list[dict[str, Any]]:
        trades: list[dict[str, Any]] = self.api("GET", "/status")
        return trades

    def open_orders(self) -> list[str]:
        return [o["order_id"] for t in self.open_trades() for o in t["orders"] if o["is_open"]]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def config(
    fake: FakeKraken, workdir: Path, port: int, *, dry_run: bool, wallet: float | dict[str, float] = 1000
) -> dict[str, Any]:
    """``wallet``: freqtrade's ``dry_run_wallet``, the stake amount or a dict of currencies."""
    api = {"public": fake.url, "private": fake.url}
    return {
        "max_open_trades": 1,
        "stake_currency": "USDT",
        "stake_amount": 100,
        "dry_run": dry_run,
        "dry_run_wallet": wallet,
        "trading_mode": "spot",
        "timeframe": "1m",
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "unfilledtimeout": {"entry": 600, "exit": 600, "unit": "minutes"},
        "exchange": {
            "name": "kraken",
            "key": "test-key" if not dry_run else "",
            "secret": "dGVzdC1zZWNyZXQ=" if not dry_run else "",
            "ccxt_config": {"urls": {"api": api}, "enableRateLimit": False},
            "ccxt_async_config": {"urls": {"api": api}, "enableRateLimit": False},
            "pair_whitelist": ["BTC/USDT"],
            "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "api_server": {
            "enabled": True,
            "listen_ip_address": "127.0.0.1",
            "listen_port": port,
            "username": USER,
            "password": PASSWORD,
            "jwt_secret_key": "0123456789abcdef0123456789abcdef",
            "ws_token": "test-ws-token-not-secret",
            "CORS_origins": [],
        },
        "bot_name": "nija-test",
        "initial_state": "running",
        "internals": {"process_throttle_secs": 1, "heartbeat_interval": 0},
        "db_url": f"sqlite:///{workdir / 'trades.sqlite'}",
        "user_data_dir": str(workdir / "user_data"),
        "strategy": "Resting",
        "telegram": {"enabled": False, "token": "", "chat_id": ""},
    }


@contextlib.contextmanager
def running_freqtrade(
    fake: FakeKraken,
    workdir: Path,
    nija_dir: Path,
    *,
    dry_run: bool = True,
    extra_strategy: str = "",
    port: int | None = None,
    wallet: float | dict[str, float] = 1000,
) -> Iterator[Freqtrade]:
    """``extra_strategy``: more source for the strategy module (e.g. a subclass named Resting2)."""
    strategies = workdir / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    (strategies / "resting.py").write_text(STRATEGY.format(data_dir=str(nija_dir)) + extra_strategy)
    port = port or free_port()
    settings = config(fake, workdir, port, dry_run=dry_run, wallet=wallet)
    if extra_strategy:
        settings["strategy"] = extra_strategy.split("class ", 1)[1].split("(", 1)[0]
    (workdir / "config.json").write_text(json.dumps(settings))
    log = workdir / "freqtrade.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIJA_", "VIRTUAL_ENV", "PYTHON"))}
    env["PYTHONPATH"] = str(REPO / "src")  # the strategy imports NIJA's mixin from this checkout
    # freqtrade logs through rich, which wraps at the terminal width (80 without one): a log
    # line the tests look for must stay on one line, whatever COLUMNS the test process has.
    env["COLUMNS"] = "1000"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(FREQTRADE), "trade", "-c", str(workdir / "config.json"), "--userdir", str(workdir / "user_data")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    bot = Freqtrade(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(f"freqtrade exited ({process.returncode}):\n{bot.log_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError, ValueError):
                if bot.api("GET", "/ping").get("status") == "pong":
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"freqtrade's API did not come up:\n{bot.log_text()[-3000:]}")
            time.sleep(0.2)
        yield bot
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
