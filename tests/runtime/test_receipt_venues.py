"""Kill receipts on Binance spot and Binance USD-M (Kraken's run in real processes in
test_kill_receipt.py): ccxt's real clients, a scripted order book at their HTTP layer.
Confirmed; an order the venue keeps listing; a venue that errors; a foreign order listed
and left alone."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt
import pytest

from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.kill_receipt import KillReceipt
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.brokers.owned import OwnedBook
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.reaction import Reaction
from nija.runtime.receipts import ReceiptRequest, ReceiptTaker
from tests.fakes.scripted import Scripted, scripted_client
from tests.runtime.runtime_helpers import candle

LIVE = Permission(True, Mode.LIVE, "LIVE_ACTIVE", "live")
KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "killed")


class BinanceBook:
    """Binance's order endpoints (spot /api/v3, USD-M /fapi/v1), in memory."""

    def __init__(self, symbol_id: str) -> None:
        self.symbol_id = symbol_id
        self.orders: dict[int, dict[str, Any]] = {}
        self.sticky = False  # answers "canceled" but keeps listing the order
        self.down = False  # open orders cannot be read
        self.next_id = 1000
        self.foreign()

    def foreign(self) -> None:
        self.orders[1] = self.row(1, "web_person_1", "SELL", "0.01", "90000")

    def row(self, order_id: int, client_id: str, side: str, qty: str, price: str) -> dict[str, Any]:
        return {
            "symbol": self.symbol_id,
            "orderId": order_id,
            "clientOrderId": client_id,
            "price": price,
            "origQty": qty,
            "executedQty": "0",
            "cummulativeQuoteQty": "0",
            "status": "NEW",
            "timeInForce": "GTC",
            "type": "LIMIT",
            "side": side,
            "time": 1767225600000,
            "updateTime": 1767225600000,
        }

    def open_orders(self, params: dict[str, str], method: str) -> Any:
        if self.down:
            return (503, {"code": -1001, "msg": "Internal error; unable to process your request."})
        return [o for o in self.orders.values() if o["status"] == "NEW"]

    def order(self, params: dict[str, str], method: str) -> Any:
        if method == "POST":
            self.next_id += 1
            row = self.row(
                self.next_id, params["newClientOrderId"], params["side"], params["quantity"], params["price"]
            )
            self.orders[self.next_id] = row
            return row
        row = self.orders[int(params["orderId"])]
        if method == "DELETE" and not self.sticky:
            row["status"] = "CANCELED"
        return {**row, "status": "CANCELED"} if method == "DELETE" else row

    def routes(self) -> dict[str, Any]:
        balance = {"balances": [{"asset": "USDT", "free": "5000", "locked": "0"}]}
        futures = {"assets": [{"asset": "USDT", "walletBalance": "5000", "availableBalance": "5000"}], "positions": []}
        return {
            "/openOrders": self.open_orders,
            "/order": self.order,
            "/api/v3/account": balance,
            "/fapi/v2/account": futures,
            "/fapi/v3/account": futures,
            "/fapi/v2/balance": [{"asset": "USDT", "balance": "5000", "availableBalance": "5000"}],
            "/fapi/v3/balance": [{"asset": "USDT", "balance": "5000", "availableBalance": "5000"}],
        }


def market(symbol: str, *, swap: bool) -> dict[str, Any]:
    base = symbol.split("/")[0]
    return {
        "id": f"{base}USDT",
        "symbol": symbol,
        "base": base,
        "quote": "USDT",
        "settle": "USDT" if swap else None,
        "baseId": base,
        "quoteId": "USDT",
        "type": "swap" if swap else "spot",
        "spot": not swap,
        "swap": swap,
        "future": False,
        "option": False,
        "margin": False,
        "contract": swap,
        "linear": True if swap else None,
        "inverse": False if swap else None,
        "active": True,
        "precision": {"amount": 0.00001, "price": 0.01},
        "limits": {"amount": {"min": 0.00001}, "price": {}, "cost": {}},
        "info": {"orderTypes": ["LIMIT", "MARKET"]},
    }


VENUES = [(ccxt.binance, "BTC/USDT", False), (ccxt.binanceusdm, "BTC/USDT:USDT", True)]


def setup(factory: Any, symbol: str, swap: bool) -> tuple[ExchangeBroker, BinanceBook, Scripted, Reaction]:
    book = BinanceBook("BTCUSDT")
    client, http = scripted_client(factory, book.routes())
    client.set_markets([market(symbol, swap=swap)])
    client.options["warnOnFetchOpenOrdersWithoutSymbol"] = False
    broker = ExchangeBroker(client, OwnedBook(Path(tempfile.mkdtemp()), f"{client.id}-t"), quote="USDT")
    broker.on_candle(candle(40_000.0, symbol))
    for price in (30_000.0, 31_000.0, 32_000.0):
        assert broker.place(OrderRequest(symbol, Side.BUY, OrderType.LIMIT, 0.01, price)).accepted
    gate = OrderGate(type("View", (), {"check": lambda self: LIVE})(), {Mode.LIVE: broker})
    reaction = Reaction(gate, alert=lambda c, m: None, retries=2)
    reaction(LIVE)
    return broker, book, http, reaction


def receipt_after_kill(broker: ExchangeBroker, reaction: Reaction, deadline_s: float = 5.0) -> KillReceipt:
    noticed = __import__("time").monotonic()
    reaction(KILLED)
    taker = ReceiptTaker(run_id="t", currency="USDT", deadline_s=deadline_s, publish=lambda r: None)
    return taker.take_now(ReceiptRequest("kill", "test", noticed, datetime.now(UTC)), [broker])


@pytest.mark.parametrize(("factory", "symbol", "swap"), VENUES, ids=["binance-spot", "binanceusdm"])
def test_the_receipt_confirms_and_lists_the_foreign_order_left_alone(factory: Any, symbol: str, swap: bool) -> None:
    broker, book, http, reaction = setup(factory, symbol, swap)
    for sent in [p for m, path, p in http.requests if m == "POST" and path.endswith("/order")]:
        assert sent["newClientOrderId"].startswith("nija")  # the bot's id, not ccxt's broker id
    receipt = receipt_after_kill(broker, reaction)
    assert receipt.confirmed
    (venue,) = receipt.brokers
    assert venue.own_open == ()
    assert [o.id for o in venue.foreign_open] == ["1"]
    assert book.orders[1]["status"] == "NEW"  # never cancelled
    cancelled = [p["orderId"] for m, path, p in http.requests if m == "DELETE"]
    assert sorted(cancelled) == ["1001", "1002", "1003"]


@pytest.mark.parametrize(("factory", "symbol", "swap"), VENUES, ids=["binance-spot", "binanceusdm"])
def test_an_order_the_venue_keeps_listing_gives_an_unconfirmed_receipt(factory: Any, symbol: str, swap: bool) -> None:
    broker, book, _, reaction = setup(factory, symbol, swap)
    book.sticky = True
    receipt = receipt_after_kill(broker, reaction, deadline_s=0.05)
    assert not receipt.confirmed
    assert len(receipt.brokers[0].own_open) == 3
    assert receipt.verdict.startswith("NOT CONFIRMED after 0.05 s: 3 own order(s) still listed open")


@pytest.mark.parametrize(("factory", "symbol", "swap"), VENUES, ids=["binance-spot", "binanceusdm"])
def test_a_venue_that_errors_is_unknown_never_flat(factory: Any, symbol: str, swap: bool) -> None:
    broker, book, _, reaction = setup(factory, symbol, swap)
    book.down = True
    receipt = receipt_after_kill(broker, reaction, deadline_s=0.05)
    assert not receipt.confirmed
    assert receipt.brokers[0].error
    assert "could not be read" in receipt.verdict or "still listed" in receipt.verdict
