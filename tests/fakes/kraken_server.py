"""A local fake of Kraken's REST API on loopback: the lowest layer a ccxt client (or a
real freqtrade process) talks to. ccxt and freqtrade are not replaced: their exchange
URL is pointed here (``point_at``, or ``exchange.ccxt_config.urls`` for freqtrade).

Public endpoints serve the recorded responses of tests/runtime/recorded/kraken plus a
ticker and candles around ``price``; private endpoints keep a small order book so that
placed orders are open until cancelled. Every request is kept for assertions
(``calls``). ``fail`` makes an endpoint answer a Kraken error body."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

RECORDED = Path(__file__).parent.parent / "runtime" / "recorded" / "kraken"
PAIR = "XBTUSDT"


@dataclass
class Call:
    endpoint: str
    params: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Hold:
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


class FakeKraken:
    def __init__(self, price: float = 43_000.0) -> None:
        self.price = price
        self.orders: dict[str, dict[str, Any]] = {}
        self.requests: list[Call] = []
        self.failures: dict[str, str] = {}  # endpoint -> Kraken error string
        self.balances: dict[str, str] = {"USDT": "2500.0"}  # Kraken asset code -> amount
        self.lock = threading.Lock()
        self.holds: dict[str, Hold] = {}  # endpoint -> held after answering (see ``hold``)
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-kraken", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> FakeKraken:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def point_at(self, exchange: Any) -> Any:
        exchange.urls["api"] = {"public": self.url, "private": self.url}
        return exchange

    # -- assertions --------------------------------------------------------------------
    def calls(self, endpoint: str) -> list[dict[str, str]]:
        with self.lock:
            return [c.params for c in self.requests if c.endpoint == endpoint]

    def open_orders(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {i: o for i, o in self.orders.items() if o["status"] == "open"}

    def fail(self, endpoint: str, error: str) -> None:
        self.failures[endpoint] = error

    def hold(self, endpoint: str) -> Hold:
        """The next answers of ``endpoint`` are decided, then held until ``release``: a
        slow venue whose answer says what the account held when the request arrived."""
        self.holds[endpoint] = Hold()
        return self.holds[endpoint]

    # -- serving -----------------------------------------------------------------------
    def answer(self, endpoint: str, params: dict[str, str]) -> tuple[int, Any]:
        answer = self._answer(endpoint, params)
        hold = self.holds.get(endpoint)
        if hold is not None:
            hold.reached.set()
            hold.released.wait(60)
        return answer

    def _answer(self, endpoint: str, params: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(Call(endpoint, params))
            if endpoint in self.failures:
                return 200, {"error": [self.failures[endpoint]]}
            handler = getattr(self, f"_{endpoint}", None)
            if handler is not None:
                return 200, {"error": [], "result": handler(params)}
            recorded = RECORDED / f"{endpoint}.json"
            if recorded.exists():
                return 200, json.loads(recorded.read_text())
            return 404, {"error": [f"EGeneral:Unknown method {endpoint}"]}

    def _Time(self, _: dict[str, str]) -> Any:
        now = int(time.time())
        return {"unixtime": now, "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}

    def _SystemStatus(self, _: dict[str, str]) -> Any:
        return {"status": "online", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def _Ticker(self, _: dict[str, str]) -> Any:
        p = f"{self.price:.1f}"
        return {
            PAIR: {
                "a": [f"{self.price + 0.1:.1f}", "1", "1.000"],
                "b": [f"{self.price - 0.1:.1f}", "1", "1.000"],
                "c": [p, "0.01"],
                "v": ["10.0", "100.0"],
                "p": [p, p],
                "t": [100, 1000],
                "l": [f"{self.price * 0.99:.1f}", f"{self.price * 0.98:.1f}"],
                "h": [f"{self.price * 1.01:.1f}", f"{self.price * 1.02:.1f}"],
                "o": p,
            }
        }

    def _OHLC(self, params: dict[str, str]) -> Any:
        minutes = int(params.get("interval", "1"))
        step = minutes * 60
        end = int(time.time()) // step * step
        rows = []
        for i in range(720):  # Kraken's maximum: enough history for any strategy's startup
            t = end - (719 - i) * step
            o = self.price * (1 + 0.001 * ((i % 7) - 3))
            c = self.price * (1 + 0.001 * (((i + 1) % 7) - 3))
            rows.append(
                [t, f"{o:.1f}", f"{max(o, c) * 1.001:.1f}", f"{min(o, c) * 0.999:.1f}", f"{c:.1f}", "0", "1.0", 3]
            )
        return {PAIR: rows, "last": end}

    def _Depth(self, _: dict[str, str]) -> Any:
        ts = int(time.time())
        return {
            PAIR: {
                "asks": [[f"{self.price + 0.1 * i:.1f}", "1.0", ts] for i in range(1, 11)],
                "bids": [[f"{self.price - 0.1 * i:.1f}", "1.0", ts] for i in range(1, 11)],
            }
        }

    def _AddOrder(self, params: dict[str, str]) -> Any:
        txid = f"O{next(self._ids):05d}-FAKE-KRAKEN"
        self.orders[txid] = {
            "status": "open",
            "pair": params.get("pair", PAIR),
            "type": params.get("type", "buy"),
            "ordertype": params.get("ordertype", "limit"),
            "price": params.get("price", "0"),
            "vol": params.get("volume", "0"),
            "cl_ord_id": params.get("cl_ord_id"),
            "opentm": time.time(),
        }
        if params.get("ordertype") == "market":
            self.orders[txid]["status"] = "closed"
        return {"descr": {"order": self._describe(txid)}, "txid": [txid]}

    def _describe(self, txid: str) -> str:
        o = self.orders[txid]
        price = "" if o["ordertype"] == "market" else f" {o['price']}"
        return f"{o['type']} {o['vol']} {o['pair']} @ {o['ordertype']}{price}"

    def _row(self, txid: str) -> dict[str, Any]:
        o = self.orders[txid]
        filled = o["status"] == "closed"
        return {
            "refid": None,
            "userref": 0,
            "cl_ord_id": o["cl_ord_id"],
            "status": o["status"],
            "opentm": o["opentm"],
            "starttm": 0,
            "expiretm": 0,
            "descr": {
                "pair": o["pair"],
                "type": o["type"],
                "ordertype": o["ordertype"],
                "price": o["price"],
                "price2": "0",
                "leverage": "none",
                "order": self._describe(txid),
                "close": "",
            },
            "vol": o["vol"],
            "vol_exec": o["vol"] if filled else "0.00000000",
            "cost": "0",
            "fee": "0",
            "price": f"{self.price:.1f}" if filled else "0",
            "stopprice": "0",
            "limitprice": "0",
            "misc": "",
            "oflags": "fciq",
        }

    def _BalanceEx(self, _: dict[str, str]) -> Any:
        return {asset: {"balance": amount, "hold_trade": "0"} for asset, amount in self.balances.items()}

    def _OpenOrders(self, _: dict[str, str]) -> Any:
        return {"open": {i: self._row(i) for i, o in self.orders.items() if o["status"] == "open"}}

    def _ClosedOrders(self, _: dict[str, str]) -> Any:
        return {"closed": {i: self._row(i) for i, o in self.orders.items() if o["status"] != "open"}, "count": 0}

    def _QueryOrders(self, params: dict[str, str]) -> Any:
        return {i: self._row(i) for i in params.get("txid", "").split(",") if i in self.orders}

    def _CancelOrder(self, params: dict[str, str]) -> Any:
        txid = params.get("txid", "")
        if "cl_ord_id" in params:  # Kraken cancels by the client order id too
            txid = next((i for i, o in self.orders.items() if o["cl_ord_id"] == params["cl_ord_id"]), "")
        order = self.orders.get(txid)
        if order is None or order["status"] != "open":
            return {"count": 0}
        order["status"] = "canceled"
        return {"count": 1}

    def _CancelAllOrdersAfter(self, params: dict[str, str]) -> Any:
        """The account-wide timer: recorded (see ``calls``), never fired by the fake."""
        return {"currentTime": "2026-01-01T00:00:00Z", "triggerTime": "0" if params.get("timeout") == "0" else "1"}

    def _CancelAll(self, _: dict[str, str]) -> Any:
        open_ids = [i for i, o in self.orders.items() if o["status"] == "open"]
        for i in open_ids:
            self.orders[i]["status"] = "canceled"
        return {"count": len(open_ids)}


def _handler(fake: FakeKraken) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self, body: str) -> None:
            url = urlparse(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            params.update({k: v[-1] for k, v in parse_qs(body).items()})
            status, payload = fake.answer(url.path.rsplit("/", 1)[-1], params)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._serve(self.rfile.read(length).decode())

    return Handler
