"""Which open orders are the guard's own: the same symbol and id as one it placed this run,
and no other client id than the one it sent. Some venues number orders per symbol, so an id
alone could name another program's order (which a kill must never cancel)."""

from __future__ import annotations

from nija.guarded.live_book import LiveBook
from nija.runtime.orders import Order, OrderType, Side

FALLBACK = Order("nj0001", "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 40_000.0)


def book_with_a_filled_order() -> LiveBook:
    book = LiveBook("binance", lambda: "nj0001", canceller=None)
    book.track({"id": "1001", "symbol": "BTC/USDT", "status": "closed"}, "nj0001", FALLBACK)
    return book


def row(symbol: str, client_id: str | None = None) -> dict[str, object]:
    return {
        "id": "1001",
        "symbol": symbol,
        "side": "buy",
        "price": 40_000.0,
        "amount": 0.01,
        "clientOrderId": client_id,
    }


def test_the_same_id_on_another_symbol_is_another_programs_order() -> None:
    reading = book_with_a_filled_order().classify([row("ETH/USDT", "web_abc")])
    assert [o.symbol for o in reading.foreign_open] == ["ETH/USDT"]
    assert reading.own_open == ()


def test_another_client_id_on_the_same_symbol_and_id_is_not_the_guards() -> None:
    reading = book_with_a_filled_order().classify([row("BTC/USDT", "web_abc")])
    assert reading.own_open == ()
    assert len(reading.foreign_open) == 1


def test_its_own_order_read_after_the_guard_forgot_it_is_still_its_own() -> None:
    for client_id in ("nj0001", None):  # the venue echoes the client id, or does not say
        reading = book_with_a_filled_order().classify([row("BTC/USDT", client_id)])
        assert [o.id for o in reading.own_open] == ["1001"]
        assert reading.foreign_open == ()
