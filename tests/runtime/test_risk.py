"""Each automatic kill trigger fires exactly at its limit, not before; order limits deny by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.orders import Fill, OrderRequest, OrderType, Outcome, PlaceResult, Side
from nija.runtime.risk import KillTriggers, OrderLimits
from nija.runtime.settings import PaperSettings, RiskSettings
from tests.runtime.runtime_helpers import candle

LIMITS = RiskSettings(
    daily_loss_limit=500.0,
    max_drawdown_pct=10.0,
    max_consecutive_losses=3,
    max_consecutive_errors=4,
    max_order_notional=1_000.0,
    max_position_notional=1_500.0,
)


def losing_sell(net: float = -1.0) -> Fill:
    return Fill("o", "BTC/USDT", Side.SELL, 1.0, 100.0, 0.1, net + 0.1, 0.0)


def test_daily_loss_fires_at_the_limit_and_not_before() -> None:
    triggers = KillTriggers(LIMITS, "USDT")
    assert triggers.observe_equity(10_000.0, "2026-01-01") is None
    assert triggers.observe_equity(9_500.01, "2026-01-01") is None  # loss 499.99
    fired = triggers.observe_equity(9_500.0, "2026-01-01")  # loss 500.00
    assert fired is not None
    assert fired.source == "AUTO_DAILY_LOSS"
    assert "daily loss 500.00 USDT reached the limit 500.00" in fired.reason
    assert "equity 9,500.00, 10,000.00 at the start of 2026-01-01" in fired.reason


def test_daily_loss_starts_again_each_day() -> None:
    triggers = KillTriggers(LIMITS.model_copy(update={"max_drawdown_pct": 100.0}))
    triggers.observe_equity(10_000.0, "2026-01-01")
    assert triggers.observe_equity(9_600.0, "2026-01-01") is None
    assert triggers.observe_equity(9_600.0, "2026-01-02") is None  # new day, new baseline
    assert triggers.observe_equity(9_100.01, "2026-01-02") is None
    assert triggers.observe_equity(9_100.0, "2026-01-02") is not None


def test_drawdown_fires_at_the_limit_and_not_before() -> None:
    triggers = KillTriggers(LIMITS.model_copy(update={"daily_loss_limit": 1e9}))
    triggers.observe_equity(1_000.0, "d1")
    triggers.observe_equity(2_000.0, "d2")  # the peak
    assert triggers.observe_equity(1_800.02, "d3") is None  # 9.999 %
    fired = triggers.observe_equity(1_800.0, "d3")
    assert fired is not None
    assert fired.source == "AUTO_DRAWDOWN"
    assert "drawdown 10.00% reached the limit 10% (equity 1,800.00, peak 2,000.00)" in fired.reason


def test_consecutive_losses_fire_at_the_limit_and_a_win_resets_the_count() -> None:
    triggers = KillTriggers(LIMITS)
    assert triggers.observe_fill(losing_sell()) is None
    assert triggers.observe_fill(losing_sell()) is None
    assert triggers.observe_fill(losing_sell(net=+5.0)) is None  # a win resets
    assert triggers.observe_fill(losing_sell()) is None
    assert triggers.observe_fill(losing_sell()) is None
    fired = triggers.observe_fill(losing_sell())
    assert fired is not None
    assert fired.source == "AUTO_CONSECUTIVE_LOSSES"
    assert "3 losing trades in a row reached the limit 3" in fired.reason


def test_a_sell_whose_fee_eats_the_gain_counts_as_a_loss() -> None:
    triggers = KillTriggers(LIMITS.model_copy(update={"max_consecutive_losses": 1}))
    fill = Fill("o", "BTC/USDT", Side.SELL, 1.0, 100.0, fee=0.2, realized_pnl=0.1, timestamp=0.0)
    assert triggers.observe_fill(fill) is not None


def test_consecutive_exchange_errors_fire_at_the_limit_and_an_answer_resets() -> None:
    triggers = KillTriggers(LIMITS)
    error = PlaceResult(Outcome.NETWORK_ERROR, "NETWORK_ERROR", "timeout")
    for _ in range(3):
        assert triggers.observe_result(error) is None
    assert triggers.observe_result(PlaceResult(Outcome.REJECTED, "INSUFFICIENT_FUNDS", "no")) is None
    for _ in range(3):
        assert triggers.observe_result(error) is None
    fired = triggers.observe_result(PlaceResult(Outcome.RATE_LIMITED, "RATE_LIMITED", "429"))
    assert fired is not None
    assert fired.source == "AUTO_EXCHANGE_ERRORS"
    assert "4 exchange errors in a row reached the limit 4 (last: RATE_LIMITED: 429)" in fired.reason


def test_a_denial_neither_counts_nor_resets_exchange_errors() -> None:
    triggers = KillTriggers(LIMITS.model_copy(update={"max_consecutive_errors": 2}))
    triggers.observe_result(PlaceResult(Outcome.EXCHANGE_ERROR, "EXCHANGE_ERROR", "500"))
    triggers.observe_result(PlaceResult(Outcome.DENIED, "STATE_OFF", "OFF"))
    assert triggers.observe_result(PlaceResult(Outcome.EXCHANGE_ERROR, "EXCHANGE_ERROR", "500")) is not None


def test_a_trigger_fires_once() -> None:
    triggers = KillTriggers(LIMITS)
    triggers.observe_equity(10_000.0, "d")
    assert triggers.observe_equity(1.0, "d") is not None
    assert triggers.observe_equity(0.5, "d") is None


@pytest.fixture
def book(tmp_path: Path) -> PaperBroker:
    broker = PaperBroker(tmp_path, PaperSettings(starting_cash=100_000.0))
    broker.on_candle(candle(100.0))
    return broker


def test_position_limit_counts_holdings_and_pending_buys(book: PaperBroker) -> None:
    limits = OrderLimits(LIMITS)
    book.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 8.0, 100.0))
    book.on_candle(candle(100.0))  # 8 held
    book.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 4.0, 90.0))  # 4 pending
    assert limits(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 3.0, 100.0), book) is None  # 1,500
    verdict = limits(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 3.1, 100.0), book)
    assert verdict is not None
    assert verdict[0] == "RISK_MAX_POSITION"
    assert limits(OrderRequest("BTC/USDT", Side.SELL, OrderType.MARKET, 8.0), book) is None  # reducing


def test_switching_accounts_starts_a_new_baseline() -> None:
    triggers = KillTriggers(LIMITS)
    triggers.observe_equity(10_000.0, "d")  # paper
    triggers.reset_equity()
    assert triggers.observe_equity(2_000.0, "d") is None  # a smaller live account is not a loss
    assert triggers.observe_equity(1_800.0, "d") is not None  # but 10 % off its own peak is
