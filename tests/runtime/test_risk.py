"""Each automatic kill trigger fires exactly at its limit, not before; order limits deny by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.controls import ControlChain, DataQuality, DenialCode, Reference
from nija.runtime.orders import Fill, OrderRequest, OrderType, Outcome, PlaceResult, Side
from nija.runtime.risk import KillTriggers, OrderLimits
from nija.runtime.settings import BreachesRequired, PaperSettings, RiskSettings
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


# -- triggers that cannot be blinded --------------------------------------------------------
BAD_EQUITIES = [float("nan"), float("inf"), float("-inf"), -0.01, -1e9, None]


@pytest.mark.parametrize("bad", BAD_EQUITIES, ids=repr)
def test_a_bad_equity_alerts_and_denies_and_never_disables_the_loss_checks(bad: float) -> None:
    alerts: list[tuple[str, str]] = []
    quality = DataQuality(on_alert=lambda code, message: alerts.append((code, message)))
    triggers = KillTriggers(LIMITS, "USDT", quality)
    assert triggers.observe_equity(bad, "d") is None  # the very first reading: no baseline from it
    assert alerts
    assert alerts[0][0] == "DATA_QUALITY"
    assert repr(bad) in alerts[0][1]
    verdict = ControlChain(LIMITS, lambda: 0.0, quality=quality).admit(
        OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, 1.0), Reference(100.0, 0.0), open_orders=0
    )
    assert verdict is not None
    assert verdict.code is DenialCode.DATA_QUALITY
    # the checks still work on the next good readings: the bad one became no baseline, no peak
    assert triggers.observe_equity(10_000.0, "d") is None
    assert quality.problems == {}
    triggers.observe_equity(bad, "d")
    fired = triggers.observe_equity(9_500.0, "d")
    assert fired is not None
    assert fired.source == "AUTO_DAILY_LOSS"


def test_alternating_bad_readings_do_not_reset_a_breach_count() -> None:
    settings = LIMITS.model_copy(update={"breaches_required": BreachesRequired(daily_loss=3)})
    triggers = KillTriggers(settings, "USDT")
    triggers.observe_equity(10_000.0, "d")
    assert triggers.observe_equity(9_400.0, "d") is None  # breach 1
    assert triggers.observe_equity(float("nan"), "d") is None
    assert triggers.observe_equity(9_400.0, "d") is None  # breach 2
    assert triggers.observe_equity(-5.0, "d") is None
    fired = triggers.observe_equity(9_400.0, "d")  # breach 3
    assert fired is not None
    assert "breached 3 times in a row (breaches_required 3)" in fired.reason


def test_zero_equity_still_fires_the_loss_trigger_and_denies_orders() -> None:
    quality = DataQuality()
    triggers = KillTriggers(LIMITS, "USDT", quality)
    triggers.observe_equity(10_000.0, "d")
    fired = triggers.observe_equity(0.0, "d")
    assert fired is not None
    assert fired.source == "AUTO_DAILY_LOSS"
    assert "equity is 0" in (quality.first_problem() or "")


@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(required=st.integers(1, 6), clean_after=st.integers(0, 5))
def test_breaches_required_counts_breaching_readings_in_a_row(required: int, clean_after: int) -> None:
    settings = LIMITS.model_copy(update={"breaches_required": BreachesRequired(drawdown=required)})
    triggers = KillTriggers(settings.model_copy(update={"daily_loss_limit": 1e12}))
    triggers.observe_equity(1_000.0, "d")
    interrupted = min(clean_after, required - 1)
    for _ in range(interrupted):
        assert triggers.observe_equity(850.0, "d") is None  # 15 % down: a breach
    assert triggers.observe_equity(950.0, "d") is None  # a clean reading resets the count
    for _ in range(required - 1):
        assert triggers.observe_equity(850.0, "d") is None
    fired = triggers.observe_equity(850.0, "d")
    assert fired is not None
    assert fired.source == "AUTO_DRAWDOWN"
    assert triggers.observe_equity(850.0, "d") is None  # latched: once per run


@pytest.mark.parametrize(
    "fill",
    [
        Fill("o", "BTC/USDT", Side.SELL, 1.0, float("nan"), 0.1, -1.0, 0.0),
        Fill("o", "BTC/USDT", Side.SELL, 1.0, 0.0, 0.1, -1.0, 0.0),
        Fill("o", "BTC/USDT", Side.SELL, 1.0, -100.0, 0.1, -1.0, 0.0),
        Fill("o", "BTC/USDT", Side.SELL, 1.0, float("inf"), 0.1, -1.0, 0.0),
        Fill("o", "BTC/USDT", Side.SELL, 1.0, 100.0, float("nan"), -1.0, 0.0),
        Fill("o", "BTC/USDT", Side.SELL, 1.0, 100.0, 0.1, float("nan"), 0.0),
    ],
    ids=["nan price", "zero price", "negative price", "inf price", "nan fee", "nan pnl"],
)
def test_a_bad_fill_alerts_denies_for_the_run_and_does_not_reset_the_loss_streak(fill: Fill) -> None:
    quality = DataQuality()
    triggers = KillTriggers(LIMITS, "USDT", quality)  # 3 losses in a row kill
    assert triggers.observe_fill(losing_sell()) is None
    assert triggers.observe_fill(losing_sell()) is None
    assert triggers.observe_fill(fill) is None  # a NaN P&L is not a "win" that resets the streak
    assert quality.problems.keys() == {"fill"}
    fired = triggers.observe_fill(losing_sell())
    assert fired is not None
    assert "3 losing trades in a row" in fired.reason
    assert quality.problems.keys() == {"fill"}  # a good fill does not clear a bad one


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0.0], ids=repr)
def test_the_position_limit_denies_on_a_bad_mark(bad: float, book: PaperBroker) -> None:
    book._marks["BTC/USDT"] = bad  # a broker reporting garbage
    verdict = OrderLimits(LIMITS)(OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, 1.0), book)
    assert verdict is not None
    assert verdict[0] == "DATA_QUALITY"


def test_a_maker_rebate_is_a_usable_fill() -> None:
    quality = DataQuality()
    triggers = KillTriggers(LIMITS, "USDT", quality)
    rebate = Fill("o", "BTC/USDT", Side.SELL, 1.0, 100.0, fee=-0.02, realized_pnl=1.0, timestamp=0.0)
    assert triggers.observe_fill(rebate) is None
    assert quality.problems == {}
