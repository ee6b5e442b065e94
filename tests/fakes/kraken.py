"""A stateful fake of Kraken's REST API, served to ccxt through a requests transport
adapter (ccxt itself is real). Its book lives in a JSON file under a lock, so the test
process and a ``nija run`` child process share one exchange: the test seeds foreign
orders and balances, the bot trades, and every request is appended to a log that the
test counts by endpoint. Public market data comes from the recorded files."""

from __future__ import annotations

import contextlib
import fcntl
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from requests.adapters import BaseAdapter

from tests.fakes.transport import body_of, url_of

RECORDED = Path(__file__).resolve().parent.parent / "runtime" / "recorded" / "kraken"
WRITES = frozenset(
    {
        "AddOrder",
        "AddOrderBatch",
        "AmendOrder",
        "EditOrder",
        "CancelOrder",
        "CancelOrderBatch",
        "CancelAll",
        "CancelAllOrdersAfter",
        "Withdraw",
        "WalletTransfer",
    }
)
STATE, LOG = "exchange.json", "requests.jsonl"


class FakeKrakenState:
    """The test's handle on the fake exchange (same files as the adapter in the child)."""

    def __init__(self, directory: Path, *, balances: dict[str, str] | None = None) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / STATE).exists():
            self._write({"orders": {}, "balances": balances or {"USDT": "2500.0", "XXBT": "0.05"}, "fail": {}})
        (directory / LOG).touch()

    @contextlib.contextmanager
    def book(self) -> Iterator[dict[str, Any]]:
        with open(self.dir / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = json.loads((self.dir / STATE).read_text())
            yield state
            self._write(state)

    def _write(self, state: dict[str, Any]) -> None:
        tmp = self.dir / f"{STATE}.tmp"
        tmp.write_text(json.dumps(state))
        tmp.replace(self.dir / STATE)

    def add_foreign(self, *, side: str = "sell", volume: str = "0.01", price: str = "90000.0", userref: int = 0) -> str:
        """An order someone else placed on the account (a person, another system, a stop)."""
        txid = "OFRGN" + secrets.token_hex(4).upper()
        with self.book() as state:
            state["orders"][txid] = _order_row(side, "limit", volume, price, None, userref=userref)
        return txid

    def fail(self, endpoint: str, error: str | None) -> None:
        """Make an endpoint answer with a Kraken error (None: answer normally again)."""
        with self.book() as state:
            if error is None:
                state["fail"].pop(endpoint, None)
            else:
                state["fail"][endpoint] = error

    def sticky(self, on: bool) -> None:
        with self.book() as state:
            state["sticky"] = on

    def open_orders(self) -> dict[str, dict[str, Any]]:
        with self.book() as state:
            return {k: v for k, v in state["orders"].items() if v["status"] == "open"}

    def fill(self, txid: str) -> None:
        with self.book() as state:
            order = state["orders"][txid]
            order["status"], order["vol_exec"] = "closed", order["vol"]
            order["price"] = order["descr"]["price"] if order["descr"]["ordertype"] == "limit" else "40000.0"
            base = "XXBT"
            amount = float(order["vol"]) * (1 if order["descr"]["type"] == "buy" else -1)
            state["balances"][base] = str(float(state["balances"].get(base, "0")) + amount)

    def requests(self) -> list[tuple[str, dict[str, list[str]]]]:
        lines = (self.dir / LOG).read_text().splitlines()
        return [(d["endpoint"], d["params"]) for d in map(json.loads, lines)]

    def calls(self, endpoint: str) -> list[dict[str, list[str]]]:
        return [params for name, params in self.requests() if name == endpoint]

    def writes(self) -> list[str]:
        return [name for name, _ in self.requests() if name in WRITES]


def _order_row(
    side: str, kind: str, volume: str, price: str | None, client_id: str | None, *, userref: int = 0
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "refid": None,
        "userref": userref,
        "status": "open",
        "opentm": 1767225600.1,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": "XBTUSDT",
            "type": side,
            "ordertype": kind,
            "price": price or "0",
            "price2": "0",
            "leverage": "none",
            "order": f"{side} {volume} XBTUSDT @ {kind} {price or ''}",
            "close": "",
        },
        "vol": volume,
        "vol_exec": "0.00000000",
        "cost": "0.00000",
        "fee": "0.00000",
        "price": "0.00000",
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
    }
    if client_id:
        row["cl_ord_id"] = client_id
    return row


class FakeKrakenAdapter(BaseAdapter):
    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.state = FakeKrakenState(directory)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        url = urlparse(url_of(request))
        endpoint = url.path.rsplit("/", 1)[-1]
        body = body_of(request)
        params = {k: v for k, v in parse_qs(body or url.query).items() if k != "nonce"}
        with open(self.state.dir / LOG, "a") as log:
            log.write(json.dumps({"endpoint": endpoint, "params": params}) + "\n")
        if endpoint in ("Assets", "AssetPairs"):
            return _response(request, (RECORDED / f"{endpoint}.json").read_bytes())
        with self.state.book() as state:
            error = state["fail"].get(endpoint)
            try:
                result = {"error": [error]} if error else {"error": [], "result": self._answer(endpoint, params, state)}
            except _KrakenError as exc:
                result = {"error": [str(exc)]}
        return _response(request, json.dumps(result).encode())

    def _answer(self, endpoint: str, params: dict[str, list[str]], state: dict[str, Any]) -> Any:
        orders: dict[str, dict[str, Any]] = state["orders"]
        one = {k: v[0] for k, v in params.items()}
        if endpoint == "OpenOrders":
            return {"open": {k: v for k, v in orders.items() if v["status"] == "open"}}
        if endpoint == "BalanceEx":
            return {c: {"balance": b, "hold_trade": "0"} for c, b in state["balances"].items()}
        if endpoint == "AddOrder":
            txid = "O" + secrets.token_hex(8).upper()
            orders[txid] = _order_row(
                one["type"], one["ordertype"], one["volume"], one.get("price"), one.get("cl_ord_id")
            )
            return {"descr": {"order": orders[txid]["descr"]["order"]}, "txid": [txid]}
        if endpoint == "CancelOrder":
            order = orders.get(one.get("txid", ""))
            if order is None or order["status"] != "open":
                raise _KrakenError("EOrder:Unknown order")
            if not state.get("sticky"):  # sticky: says cancelled, keeps listing it (a lagging venue)
                order["status"] = "canceled"
            return {"count": 1}
        if endpoint == "CancelAll":
            count = 0
            for order in orders.values():
                if order["status"] == "open":
                    order["status"], count = "canceled", count + 1
            return {"count": count}
        if endpoint == "CancelAllOrdersAfter":
            return {"currentTime": "2026-01-01T00:00:00Z", "triggerTime": "2026-01-01T00:01:00Z"}
        if endpoint == "QueryOrders":
            return {t: orders[t] for t in one.get("txid", "").split(",") if t in orders}
        raise AssertionError(f"the fake Kraken has no answer for {endpoint}")


class _KrakenError(Exception):
    pass


def _response(request: requests.PreparedRequest, content: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = content
    response.headers["Content-Type"] = "application/json"
    response.url = request.url or ""
    response.request = request
    response.reason = "OK"
    return response
