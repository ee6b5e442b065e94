"""Kill to confirmed-flat receipt against a fake exchange that answers at once.

Each trial: 20 open orders of the bot over 5 symbols (plus one foreign order) on ccxt's
real kraken client whose HTTP layer is an in-memory fake; then the kill reaction
(cancel the bot's own orders one by one, re-read the book) and the kill receipt (ask
the exchange until none of the bot's orders is open, read balances, write the receipt
durably). Timed from the kill to the receipt on disk: NIJA's own overhead, ccxt's
request building and parsing included. Target p99 < 50 ms.

Usage: python benchmarks/kill_receipt.py [--trials 50] [--orders 20] [--symbols 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import ccxt
import requests
from _stats import percentile
from requests.adapters import BaseAdapter

from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.kill_receipt import write_receipt
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.brokers.owned import OwnedBook
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.reaction import Reaction
from nija.runtime.receipts import ReceiptRequest, ReceiptTaker

KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "benchmark kill")
LIVE = Permission(True, Mode.LIVE, "LIVE_ACTIVE", "live")
BASES = ["BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "LINK"]


class InstantKraken(BaseAdapter):
    """Kraken's private order endpoints, in memory, answering at once."""

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        endpoint = urlparse(request.url).path.rsplit("/", 1)[-1]
        self.counts[endpoint] = self.counts.get(endpoint, 0) + 1
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        one = {k: v[0] for k, v in parse_qs(body).items()}
        result: Any
        if endpoint == "AddOrder":
            txid = "O" + secrets.token_hex(6).upper()
            self.orders[txid] = self.row(
                one["pair"], one["type"], one["volume"], one.get("price"), one.get("cl_ord_id")
            )
            order = f"{one['type']} {one['volume']} {one['pair']} @ limit {one.get('price')}"
            result = {"descr": {"order": order}, "txid": [txid]}
        elif endpoint == "OpenOrders":
            result = {"open": {k: v for k, v in self.orders.items() if v["status"] == "open"}}
        elif endpoint == "CancelOrder":
            self.orders[one["txid"]]["status"] = "canceled"
            result = {"count": 1}
        elif endpoint == "BalanceEx":
            result = {"USDT": {"balance": "100000", "hold_trade": "0"}}
        else:
            result = {}
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps({"error": [], "result": result}).encode()
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = request.url or "", request
        return response

    def close(self) -> None:
        pass

    @staticmethod
    def row(pair: str, side: str, volume: str, price: str | None, client_id: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {
            "status": "open",
            "userref": 0,
            "opentm": 1767225600.0,
            "descr": {"pair": pair, "type": side, "ordertype": "limit", "price": price or "0"},
            "vol": volume,
            "vol_exec": "0",
            "cost": "0",
            "fee": "0",
            "price": "0",
            "oflags": "fciq",
        }
        if client_id:
            row["cl_ord_id"] = client_id
        return row


def market(base: str) -> dict[str, Any]:
    return {
        "id": f"{base}USDT",
        "symbol": f"{base}/USDT",
        "base": base,
        "quote": "USDT",
        "baseId": base,
        "quoteId": "USDT",
        "altname": f"{base}USDT",
        "type": "spot",
        "spot": True,
        "active": True,
        "precision": {"amount": 1e-8, "price": 0.01},
        "limits": {"amount": {"min": 1e-8}},
        "info": {},
    }


def trial(tmp: Path, orders: int, symbols: int) -> tuple[float, float, int]:
    client = ccxt.kraken({"apiKey": "k", "secret": base64.b64encode(b"s").decode(), "enableRateLimit": False})
    client.set_markets([market(b) for b in BASES[:symbols]])
    fake = InstantKraken()
    client.session.mount("https://", fake)
    broker = ExchangeBroker(client, OwnedBook(tmp, "bench"), quote="USDT", dead_man_switch_s=0)
    broker.reconciled = True  # markets are set above; the first read is the kill's own
    for i in range(orders):
        base = BASES[i % symbols]
        assert broker.place(OrderRequest(f"{base}/USDT", Side.BUY, OrderType.LIMIT, 0.01, 100.0 + i)).accepted
    fake.orders["OFOREIGN"] = fake.row("BTCUSDT", "sell", "1", "99999", None)
    gate = OrderGate(type("View", (), {"check": lambda self: LIVE})(), {Mode.LIVE: broker})
    reaction = Reaction(gate, alert=lambda code, message: None)
    reaction(LIVE)
    taker = ReceiptTaker(run_id="bench", currency="USDT", deadline_s=10.0, publish=lambda r: None)
    fake.counts.clear()
    start = time.perf_counter()
    noticed = time.monotonic()
    reaction(KILLED)
    receipt = taker.take_now(ReceiptRequest("kill", "benchmark", noticed, datetime.now(UTC)), [broker])
    write_receipt(tmp, receipt)
    total = time.perf_counter() - start
    assert receipt.confirmed, receipt.verdict
    assert len(receipt.brokers[0].foreign_open) == 1
    assert "OFOREIGN" not in [o for o, r in fake.orders.items() if r["status"] != "open"]
    return total, receipt.seconds_to_flat or 0.0, sum(fake.counts.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--symbols", type=int, default=5)
    args = parser.parse_args()
    totals, flats, requests_made = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.trials + 3):
            directory = Path(tmp) / str(n)
            directory.mkdir()
            total, flat, count = trial(directory, args.orders, args.symbols)
            if n >= 3:  # warm-up: imports, first-use caches
                totals.append(total * 1000)
                flats.append(flat * 1000)
                requests_made = count
    print(f"kill -> confirmed-flat receipt on disk: {args.orders} orders, {args.symbols} symbols, {args.trials} trials")
    print(f"  requests per kill: {requests_made} (cancels, re-read, receipt read, balance)")
    p50, p99 = statistics.median(totals), percentile(totals, 0.99)
    print(f"  total    p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   (target p99 < 50 ms)")
    p50, p99 = statistics.median(flats), percentile(flats, 0.99)
    print(f"  to flat  p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   (until the exchange listed none of the bot's orders)")


if __name__ == "__main__":
    main()
