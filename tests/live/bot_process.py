"""A real ``nija run`` bot process with credentials, its exchange faked at ccxt's HTTP
layer (exchange_bot.py), and readers for what it publishes and what reached the exchange."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from nija.domain.records import Heartbeat
from nija.store.json_files import JsonFileStore
from tests.conftest import cli_env

LAUNCHER = Path(__file__).resolve().parent / "exchange_bot.py"
CREDENTIALS = {"NIJA_API_KEY": "test-key", "NIJA_API_SECRET": "dGVzdC1zZWNyZXQ="}
# Every Kraken endpoint that places or changes an order: none may be reached without a
# verified confirmation for the running run.
ORDER_ENDPOINTS = frozenset({"AddOrder", "AddOrderBatch", "EditOrder", "AmendOrder"})
# Resting limit entries (20 % below the market) placed often: many order attempts.
BUSY = (
    "[strategy]\nfast = 10\nslow = 100\nmin_spread_pct = 0\nlimit_offset_pct = 20\nposition_pct = 10\n"
    "[bot]\nreport_s = 0.1\n[risk]\nprice_collar_pct = 25\n"  # the 5 % default collar would deny them
    # The recorded account holds 0.05 BTC the bot never bought: tolerated here, since these
    # tests are about whose confirmation may trade (tests/runtime/test_account_checks.py
    # pins the refusal of unexplained exposure).
    "[exchange]\nexposure_tolerance = 100000\n"
    # A live request needs a reconciliation with prices: the first one may come before the
    # first candle, so the next one is soon rather than the default 30 s later.
    "reconcile_s = 0.5\n"
    '[feed]\nsymbols = ["BTC/USDT"]\n'  # the only pair of the recorded AssetPairs
)
PHRASE = "I understand that live trading risks real capital"


class BotProcess:
    def __init__(self, data_dir: Path, *store_args: str, log: Path | None = None) -> None:
        self.data_dir = data_dir
        self.log = log or data_dir.parent / f"exchange-{time.monotonic_ns()}.jsonl"
        self.log.touch()
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(LAUNCHER),
                "run",
                "--data-dir",
                str(data_dir),
                *store_args,
                "--json",
                "--pace",
                "0.02",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(NIJA_TEST_EXCHANGE_LOG=str(self.log), **CREDENTIALS),
        )

    def exchange_requests(self) -> Counter[str]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return Counter(json.loads(line)["endpoint"] for line in lines if line.strip())

    def order_requests(self) -> int:
        calls = self.exchange_requests()
        return sum(calls[endpoint] for endpoint in ORDER_ENDPOINTS)

    def stop(self) -> dict[str, object]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=60)
        assert out.strip(), f"no summary; stderr: {err}"
        return json.loads(out)  # type: ignore[no-any-return]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)


def file_heartbeat(data_dir: Path) -> Heartbeat | None:
    return JsonFileStore(data_dir).load().heartbeat


def nija(data_dir: Path | None, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    where = ["--data-dir", str(data_dir)] if data_dir is not None else []
    # Without a data directory (a fleet store) the host's audit log is the working
    # directory's: a scratch one, never a file every test worker shares.
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.run(
            [sys.executable, "-m", "nija", *args, *where],
            capture_output=True,
            text=True,
            cwd=data_dir or scratch,
            env=cli_env(**(env or {})),
            timeout=60,
            check=False,
        )


def wait_for(predicate: object, *, timeout: float = 60.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
