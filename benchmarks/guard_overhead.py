"""Overhead of a guarded create_order over the raw ccxt call, both against ccxt's HTTP
layer replaced in-process (a requests adapter answering Kraken's AddOrder), so the
figures are ccxt's and NIJA's own cost, not a network's.

Measured in the same run, interleaved: raw ``kraken.create_order``; the guarded call in
LIVE_ACTIVE (permission check, risk vetoes, client id, the same ccxt call); the guarded
call in DRY_RUN (the paper broker and its SQLite ledger instead of ccxt); and a refusal
during a kill. Prints median and p99 of each, and the ratios to raw.

Usage: python benchmarks/guard_overhead.py [--orders 1000]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ccxt
import requests
from requests.adapters import BaseAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._stats import percentile
from tests.guard.helpers import dry_run, go_live, kill

import nija

RECORDED = Path(__file__).resolve().parent.parent / "tests" / "runtime" / "recorded" / "kraken"
TICKER = {"error": [], "result": {"XBTUSDT": {"a": ["43000.1", "1", "1"], "b": ["42999.9", "1", "1"],
          "c": ["43000.0", "0.1"], "v": ["1", "1"], "p": ["43000", "43000"], "t": [1, 1],
          "l": ["42000", "42000"], "h": ["44000", "44000"], "o": "43000"}}}  # fmt: skip


class Replies(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.bodies = {p.stem: p.read_bytes() for p in RECORDED.glob("*.json")}
        self.bodies["Ticker"] = json.dumps(TICKER).encode()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response._content = self.bodies[(request.url or "").split("?")[0].rsplit("/", 1)[-1]]
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def kraken() -> Any:
    client = ccxt.kraken({"apiKey": "k", "secret": base64.b64encode(b"s").decode(), "enableRateLimit": False})
    client.session.mount("https://", Replies())
    client.load_markets()
    return client


def timed(call: Any) -> float:
    start = time.perf_counter()
    with contextlib.suppress(ccxt.OperationRejected):  # the refusal is what is timed
        call()
    return time.perf_counter() - start


def line(name: str, samples: list[float], base: float | None) -> str:
    med = statistics.median(samples)
    ratio = f"  ({med / base:.2f}x raw)" if base else ""
    return f"{name:<28} median {med * 1e6:8.1f} us   p99 {percentile(samples, 0.99) * 1e6:8.1f} us{ratio}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as live_dir, tempfile.TemporaryDirectory() as paper_dir:
        live_path, paper_path = Path(live_dir), Path(paper_dir)
        # Limits out of the way (every control still runs): the figure is the cost, not a denial.
        risk = (
            "[risk]\nmax_position_notional = 1e15\nmax_open_orders = 1000000\nmax_daily_orders = 1000000\n"
            "max_daily_notional = 1e15\nmax_submits_per_s = 1000000\nmax_order_to_fill_ratio = 1e9\n"
        )
        (paper_path / "nija.toml").write_text("[paper]\nstarting_cash = 1e12\n" + risk)
        (live_path / "nija.toml").write_text(risk)
        raw = kraken()
        dry_run(live_path)
        guarded_live = nija.guard(kraken(), data_dir=live_path)
        go_live(live_path)
        dry_run(paper_path)
        guarded_paper = nija.guard(kraken(), data_dir=paper_path)
        with tempfile.TemporaryDirectory() as killed_dir:
            guarded_killed = nija.guard(kraken(), data_dir=Path(killed_dir))
            kill(Path(killed_dir))
            # A new price each time (within the collar): identical orders are denied as duplicates.
            prices = iter([42_000.0 + i * 0.1 for i in range(10 * args.orders + 100)])
            runs: dict[str, list[float]] = {"raw ccxt": [], "guarded LIVE_ACTIVE": [], "guarded DRY_RUN (paper)": []}
            runs["guarded refusal (kill)"] = []
            for _ in range(20):  # warm-up
                raw.create_order("BTC/USDT", "limit", "buy", 0.01, next(prices))
                guarded_live.create_order("BTC/USDT", "limit", "buy", 0.01, next(prices))
            calls = {
                "raw ccxt": raw,
                "guarded LIVE_ACTIVE": guarded_live,
                "guarded DRY_RUN (paper)": guarded_paper,
                "guarded refusal (kill)": guarded_killed,
            }
            shuffle = random.Random(7)
            for _ in range(args.orders):
                names = list(calls)
                shuffle.shuffle(names)  # no variant always runs first (caches, scheduler)
                for name in names:
                    price = next(prices)
                    runs[name].append(
                        timed(lambda e=calls[name], p=price: e.create_order("BTC/USDT", "limit", "buy", 0.01, p))
                    )
            for name, guarded in (("LIVE_ACTIVE", guarded_live), ("DRY_RUN", guarded_paper)):
                denials = dict(guarded.nija.gate.denials)
                if denials:  # the figures would be of refusals, not of placed orders
                    raise SystemExit(f"{name}: orders were denied: {denials}")
            guarded_killed.close()
        guarded_live.close()
        guarded_paper.close()
    base = statistics.median(runs["raw ccxt"])
    print(f"create_order, {args.orders} calls each, ccxt {ccxt.__version__}, HTTP layer replaced in-process")
    for name, samples in runs.items():
        print(line(name, samples, None if name == "raw ccxt" else base))
    added = statistics.median(runs["guarded LIVE_ACTIVE"]) - base
    print(f"guard overhead in LIVE_ACTIVE: {added * 1e6:.1f} us per order (median)")


if __name__ == "__main__":
    main()
