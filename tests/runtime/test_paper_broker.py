"""The paper broker: funds and holdings checks, fills, P&L, and a ledger that survives a restart."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nija.runtime.brokers.ledger import LEDGER_FILE
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.orders import OrderRequest, OrderType, Outcome, Side
from nija.runtime.settings import PaperSettings
from tests.runtime.runtime_helpers import candle

FEES = PaperSettings(starting_cash=1_000.0, maker_fee_pct=0.1, taker_fee_pct=0.2, slippage_pct=0.5)


def buy(qty: float, price: float | None = None, symbol: str = "BTC/USDT") -> OrderRequest:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(symbol, Side.BUY, kind, qty, price)


def sell(qty: float, price: float | None = None, symbol: str = "BTC/USDT") -> OrderRequest:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(symbol, Side.SELL, kind, qty, price)


def test_when_market_buy_then_fills_at_next_open_with_slippage_and_taker_fee(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    broker.on_candle(candle(100.0))
    assert broker.place(buy(2)).accepted
    (fill,) = broker.on_candle(candle(110.0, open_=104.0))
    assert fill.price == pytest.approx(104.0 * 1.005)
    assert fill.fee == pytest.approx(2 * 104.0 * 1.005 * 0.002)
    assert broker.account().cash == pytest.approx(1_000 - 2 * 104.52 - fill.fee)
    assert broker.held("BTC/USDT") == 2


def test_when_limit_buy_then_fills_only_once_price_crosses(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    assert broker.place(buy(1, 90.0)).accepted
    assert broker.on_candle(candle(95.0, low=90.5)) == []
    (fill,) = broker.on_candle(candle(92.0, open_=95.0, low=89.0))
    assert fill.price == 90.0
    assert fill.fee == pytest.approx(0.09)


def test_when_limit_buy_gaps_below_then_fills_at_the_better_open(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    broker.place(buy(1, 90.0))
    (fill,) = broker.on_candle(candle(85.0, open_=86.0))
    assert fill.price == 86.0


def test_when_selling_what_is_not_held_then_rejected(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    broker.on_candle(candle(100.0))
    result = broker.place(sell(0.5))
    assert result.outcome is Outcome.REJECTED
    assert result.code == "INSUFFICIENT_HOLDINGS"
    assert broker.open_orders() == ()


def test_when_selling_more_than_held_minus_pending_sells_then_rejected(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    broker.place(buy(1, 100.0))
    broker.on_candle(candle(99.0))
    assert broker.place(sell(0.6, 200.0)).accepted
    assert broker.place(sell(0.6, 200.0)).code == "INSUFFICIENT_HOLDINGS"


def test_when_buying_more_than_cash_including_reserved_then_rejected(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    assert broker.place(buy(6, 100.0)).accepted  # reserves 600.6
    result = broker.place(buy(4, 100.0))  # needs 400.4, only 399.4 free
    assert result.code == "INSUFFICIENT_FUNDS"
    assert "available 399.40" in result.reason


def test_when_round_trip_then_realized_pnl_and_fees_are_booked(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    broker.place(buy(2, 100.0))
    broker.on_candle(candle(100.0))
    broker.place(sell(2, 110.0))
    (fill,) = broker.on_candle(candle(111.0, open_=105.0))
    assert fill.realized_pnl == pytest.approx(20.0)
    account = broker.account()
    assert account.realized_pnl == pytest.approx(20.0)
    assert account.fees == pytest.approx(0.2 + 0.22)
    assert account.cash == pytest.approx(1_000 + 20 - 0.42)
    assert broker.holdings() == ()


def test_when_holding_then_unrealized_pnl_follows_the_mark(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    broker.place(buy(2, 100.0))
    broker.on_candle(candle(100.0))
    broker.on_candle(candle(107.0))
    assert broker.account().unrealized_pnl == pytest.approx(14.0)
    assert broker.account().equity == pytest.approx(1_000 - 0.2 + 14.0)


def test_when_restarted_then_cash_holdings_and_open_orders_come_back(tmp_path: Path) -> None:
    first = PaperBroker(tmp_path, FEES)
    first.place(buy(2, 100.0))
    first.on_candle(candle(100.0))
    resting = first.place(sell(1, 150.0)).order
    cash = first.account().cash
    first.close()
    second = PaperBroker(tmp_path, PaperSettings(starting_cash=5.0))  # the ledger's account wins
    assert second.account().cash == pytest.approx(cash)
    assert second.held("BTC/USDT") == 2
    assert [o.id for o in second.open_orders()] == [resting.id if resting else None]
    assert second.place(buy(1, 10.0)).order.id != resting.id  # type: ignore[union-attr]


def test_when_cancelled_then_ledger_says_cancelled(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path, FEES)
    order = broker.place(buy(1, 50.0)).order
    assert order is not None
    assert broker.cancel(order.id).ok
    status = sqlite3.connect(tmp_path / LEDGER_FILE).execute("SELECT status FROM orders").fetchone()
    assert status == ("cancelled",)
    assert broker.open_orders() == ()


# -- properties -----------------------------------------------------------------------

prices = st.floats(min_value=1.0, max_value=1_000.0, allow_nan=False)
actions = st.lists(
    st.tuples(
        st.sampled_from(["buy_market", "buy_limit", "sell_market", "sell_limit", "cancel"]),
        st.floats(min_value=0.01, max_value=5.0),
        st.floats(min_value=0.8, max_value=1.2),  # limit price relative to the last close
        prices,  # next candle's close
        st.floats(min_value=0.9, max_value=1.1),  # next candle's open relative to its close
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_property_cash_plus_cost_basis_minus_fees_is_conserved_and_no_holding_is_negative(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, float, float, float, float]]
) -> None:
    broker = PaperBroker(tmp_path_factory.mktemp("paper"), FEES)
    close = 100.0
    broker.on_candle(candle(close))
    for kind, qty, rel, next_close, rel_open in steps:
        if kind == "cancel":
            for order in broker.open_orders()[:1]:
                broker.cancel(order.id)
        else:
            side = Side.BUY if kind.startswith("buy") else Side.SELL
            price = close * rel if kind.endswith("limit") else None
            kind_ = OrderType.LIMIT if price is not None else OrderType.MARKET
            broker.place(OrderRequest("BTC/USDT", side, kind_, qty, price))
        open_ = next_close * rel_open
        fills = broker.on_candle(candle(next_close, open_=open_))
        close = next_close
        account = broker.account()
        basis = sum(h.quantity * h.average_price for h in broker.holdings())
        # Conservation through fills: starting cash + realised P&L - fees == cash + cost basis.
        assert math.isclose(account.cash + basis, 1_000 + account.realized_pnl - account.fees, abs_tol=1e-6)
        # Equity marks the holdings at the last close: the same identity plus unrealised P&L.
        assert math.isclose(account.equity, account.cash + basis + account.unrealized_pnl, abs_tol=1e-6)
        assert all(h.quantity > 0 for h in broker.holdings())
        assert account.cash >= -1e-9
        for fill in fills:
            assert fill.fee >= 0
    broker.close()
