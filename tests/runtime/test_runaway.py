"""Strategies written to loop, a fat-fingered price and bad ticks, against the real bot
loop, the real paper broker and the real kill switch on real files (in-process Bot).

The controls run on the feed's clock, so these runs are exact whatever the machine's
speed: a tick every millisecond of feed time is a thousand orders a second to the gate."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.bot_report import read_report
from nija.config import NijaConfig
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.observability.metrics import Metrics
from nija.runtime.brokers.base import Broker
from nija.runtime.candles import Candle
from nija.runtime.controls import DenialCode
from nija.runtime.engine import Bot
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.settings import RiskSettings
from nija.runtime.strategy import Action, Cancel, Place

OPERATOR = Who("alice@host", "cli")
T0 = 1_767_225_600.0


def ticks(n: int, step_s: float, price: float = 100.0, symbol: str = "BTC/USDT") -> Iterator[Candle]:
    """A flat market: limit buys 2 % below never fill."""
    for i in range(n):
        yield Candle(T0 + i * step_s, symbol, price, price + 0.5, price - 0.5, price, 1.0)


class OrderEveryTick:
    """The bug: a resting buy on every tick, never looking at what is already open."""

    def __init__(self) -> None:
        self.n = 0

    def on_candle(self, candle: Candle, book: Broker) -> list[Action]:
        self.n += 1
        qty = 0.01 + self.n * 1e-6  # never an exact duplicate: the rate and open-order limits must catch it
        return [Place(OrderRequest(candle.symbol, Side.BUY, OrderType.LIMIT, qty, candle.close * 0.98))]


class ReplaceOnCancel:
    """The bug: cancel the open order and place it again, on every tick, forever."""

    def on_candle(self, candle: Candle, book: Broker) -> list[Action]:
        actions: list[Action] = [Cancel(o.id, "re-quote") for o in book.open_for(candle.symbol)]
        actions.append(Place(OrderRequest(candle.symbol, Side.BUY, OrderType.LIMIT, 0.01, candle.close * 0.98)))
        return actions


def start_bot(data_dir: Path, strategy: object, **risk: object) -> Bot:
    config = NijaConfig(risk=RiskSettings.model_validate(risk))
    service = build_service(data_dir, config=config)
    service.restore(OPERATOR)
    return Bot(service, config, data_dir, actor="test", strategy=strategy)  # type: ignore[arg-type]


def metrics_of(bot: Bot) -> Metrics:
    return next(m for m in bot.service.listeners if isinstance(m, Metrics))


def test_an_order_on_every_tick_is_throttled_then_the_breaker_kills_and_everything_is_cancelled(
    data_dir: Path,
) -> None:
    bot = start_bot(data_dir, OrderEveryTick(), runaway_max_denials=20, runaway_window_s=60)
    summary = bot.run(ticks(2_000, step_s=0.001))  # two seconds of feed time
    # 50 orders rest (max_open_orders), the next 21 are denied, the 21st trips the breaker
    assert summary.orders_placed == 50
    assert summary.denials[DenialCode.RISK_MAX_OPEN_ORDERS] == 21
    assert summary.auto_kill is not None
    assert "the throttles denied 21 orders in 60 s, more than runaway_max_denials 20" in summary.auto_kill
    assert "(last: RISK_MAX_OPEN_ORDERS)" in summary.auto_kill
    assert summary.denials["KILL_SWITCH_ACTIVE"] == 2_000 - 50 - 21  # every later tick: nothing passes
    # the kill cancelled everything and latched
    assert summary.kill_complete
    assert summary.cancelled == 50
    assert bot.paper.open_orders() == ()
    assert summary.state_at_end == "EMERGENCY_STOP"
    kill = bot.service.history()[1][-1]
    assert kill.source == "AUTO_RUNAWAY_ORDERS"
    assert "runaway_max_denials 20" in kill.reason
    # within its window: the trip came 71 ms of feed time after the first order
    assert summary.controls["throttle_denials_in_window"] == 21
    assert "runaway_max_denials" in str(summary.controls["runaway"])
    report = read_report(data_dir)
    assert report is not None
    assert report.open_orders == ()
    assert report.denial_counts[DenialCode.RISK_MAX_OPEN_ORDERS] == 21
    assert any(a.code == "AUTO_RUNAWAY_ORDERS" for a in report.alerts)
    # each denial has its own time (when the gate denied it), earlier than the final report
    assert set(report.denial_last) == set(report.denial_counts)
    assert datetime.fromisoformat(report.denials[0].timestamp) < datetime.fromisoformat(report.updated_at)
    assert report.denial_last[DenialCode.RISK_MAX_OPEN_ORDERS] <= report.denial_last["KILL_SWITCH_ACTIVE"]
    # every denial reaches the metrics (not one per second), and the figures are gauges
    assert metrics_of(bot).orders_denied[DenialCode.RISK_MAX_OPEN_ORDERS] == 21
    exposition = metrics_of(bot).exposition().decode()
    assert "nija_risk_runaway_tripped 1.0" in exposition
    assert "nija_risk_throttle_denials_in_window 21.0" in exposition
    assert "nija_risk_daily_orders 50.0" in exposition


def test_without_an_open_order_limit_the_rate_throttle_and_the_breaker_stop_the_same_loop(data_dir: Path) -> None:
    bot = start_bot(
        data_dir, OrderEveryTick(), max_open_orders=10_000, max_position_notional=1e9, max_order_to_fill_ratio=1e6
    )
    summary = bot.run(ticks(1_000, step_s=0.001))
    assert summary.orders_placed == 100  # max_submits_per_s (nautilus_trader's 100/s)
    assert summary.denials[DenialCode.RISK_RATE] == 21
    assert summary.auto_kill is not None
    assert "(last: RISK_RATE)" in summary.auto_kill
    assert summary.cancelled == 100
    assert bot.paper.open_orders() == ()


def test_re_placing_on_every_cancel_trips_the_order_to_fill_ratio(data_dir: Path) -> None:
    bot = start_bot(data_dir, ReplaceOnCancel(), max_order_to_fill_ratio=50, order_to_fill_window_s=3_600)
    summary = bot.run(ticks(200, step_s=1.0))  # one order a second: no rate limit is near
    assert summary.orders_placed == 50
    assert summary.fills == 0
    assert summary.denials[DenialCode.RISK_RUNAWAY] == 1
    assert summary.auto_kill is not None
    assert "51 orders against 0 fills in 3600 s" in summary.auto_kill
    assert "max_order_to_fill_ratio 50" in summary.auto_kill
    assert summary.state_at_end == "EMERGENCY_STOP"
    assert bot.paper.open_orders() == ()
    assert summary.kill_complete


def test_a_loop_below_every_limit_is_left_alone(data_dir: Path) -> None:
    bot = start_bot(data_dir, ReplaceOnCancel())
    summary = bot.run(ticks(40, step_s=60.0))  # forty re-quotes, a minute apart
    assert summary.auto_kill is None
    assert summary.denials == {}
    assert summary.orders_placed == 40
    assert summary.state_at_end == "DRY_RUN"


# -- fat finger and bad ticks, one at a time --------------------------------------------
@pytest.fixture
def running(data_dir: Path) -> Iterator[Bot]:
    bot = start_bot(data_dir, ReplaceOnCancel(), price_collar_pct=5.0)
    bot.strategy = type("Idle", (), {"on_candle": lambda self, c, b: []})()
    bot.start()
    for candle in ticks(3, step_s=60.0):
        bot.step(candle)
    try:
        yield bot
    finally:
        bot.finish("test over")


def buy(price: float | None = None, symbol: str = "BTC/USDT") -> OrderRequest:
    if price is None:
        return OrderRequest(symbol, Side.BUY, OrderType.MARKET, 0.01)
    return OrderRequest(symbol, Side.BUY, OrderType.LIMIT, 0.01, price)


def test_a_fat_fingered_price_is_denied_by_the_collar_and_every_denial_is_counted(running: Bot) -> None:
    for _ in range(30):
        result = running.place(buy(1_000.0))  # 10x the market: a digit too many
        assert result.code == DenialCode.RISK_PRICE_COLLAR
        assert "is 900.00% from the reference 100" in result.reason
    assert running.gate.denials[DenialCode.RISK_PRICE_COLLAR] == 30
    assert metrics_of(running).orders_denied[DenialCode.RISK_PRICE_COLLAR] == 30
    exposition = metrics_of(running).exposition().decode()
    assert 'nija_orders_denied_total{reason="RISK_PRICE_COLLAR"} 30.0' in exposition
    assert running.place(buy(99.0)).accepted  # a sane price still passes
    assert running.triggers.fired is None
    assert running.controls.tripped is None


@pytest.mark.parametrize("bad", [math.nan, 0.0, -100.0, math.inf], ids=repr)
def test_a_bad_tick_is_dropped_alerts_and_denies_that_symbols_orders_until_a_good_one(running: Bot, bad: float) -> None:
    mark_before = running.paper.mark("BTC/USDT")
    running.step(Candle(T0 + 180, "BTC/USDT", bad, bad, bad, bad, 1.0))
    assert running.paper.mark("BTC/USDT") == mark_before  # the paper account never saw it
    assert any(a.code == "DATA_QUALITY" and "bad tick BTC/USDT" in a.message for a in running.counters.alerts)
    for request in (buy(), buy(100.0)):
        result = running.place(request)
        assert result.code == DenialCode.RISK_NO_REFERENCE  # the old good price does not stand in
        assert "counts as missing" in result.reason
    running.step(Candle(T0 + 240, "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0))
    assert running.place(buy()).accepted


@pytest.mark.parametrize("field", ["open", "high", "low", "close"])
@pytest.mark.parametrize("bad", [math.nan, 0.0, -1.0, math.inf, -math.inf], ids=repr)
def test_one_bad_price_in_a_candle_makes_it_a_bad_tick(running: Bot, field: str, bad: float) -> None:
    prices = {"open": 100.0, "high": 100.5, "low": 99.5, "close": 100.0, field: bad}
    running.step(Candle(T0 + 180, "BTC/USDT", prices["open"], prices["high"], prices["low"], prices["close"], 1.0))
    assert running.place(buy()).code == DenialCode.RISK_NO_REFERENCE
    assert running.paper.mark("BTC/USDT") == 100.0


def test_a_tick_with_high_below_low_is_a_bad_tick(running: Bot) -> None:
    running.step(Candle(T0 + 180, "BTC/USDT", 100.0, 99.0, 101.0, 100.0, 1.0))
    assert running.place(buy()).code == DenialCode.RISK_NO_REFERENCE


def test_a_tick_for_another_symbol_does_not_stand_in_for_a_missing_reference(running: Bot) -> None:
    result = running.place(buy(100.0, symbol="ETH/USDT"))
    assert result.code == DenialCode.RISK_NO_REFERENCE
    assert "no reference price for ETH/USDT" in result.reason
    market_buy = running.place(buy(symbol="ETH/USDT"))  # the position limit cannot value it either
    assert market_buy.code == DenialCode.NO_PRICE


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0], ids=repr)
def test_a_bad_equity_reading_denies_every_order_and_alerts_until_a_good_one(running: Bot, bad: float) -> None:
    running.triggers.observe_equity(bad, "2026-01-01")
    result = running.place(buy())
    assert result.code == DenialCode.DATA_QUALITY
    assert repr(bad) in result.reason
    assert any(a.code == "DATA_QUALITY" for a in running.counters.alerts)
    assert metrics_of(running).data_quality_alerts == 1
    assert "nija_data_quality_alerts_total 1.0" in metrics_of(running).exposition().decode()
    running.triggers.observe_equity(10_000.0, "2026-01-01")
    assert running.place(buy()).accepted


def test_flatten_orders_pass_while_the_breaker_has_tripped(data_dir: Path) -> None:
    config = NijaConfig.model_validate({"bot": {"flatten_on_kill": True}, "risk": {"max_order_to_fill_ratio": 2}})
    service = build_service(data_dir, config=config)
    service.restore(OPERATOR)
    bot = Bot(service, config, data_dir, actor="test", strategy=ReplaceOnCancel())
    bot.start()
    bot.step(next(ticks(1, 1.0)))
    assert bot.place(buy()).accepted  # a market buy, filled by the next tick
    bot.step(Candle(T0 + 1, "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0))
    assert bot.paper.held("BTC/USDT") > 0
    for i in range(2, 8):
        bot.step(Candle(T0 + i, "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0))
    summary = bot.finish("test over")
    assert summary.auto_kill is not None
    assert "order-to-fill ratio" in summary.auto_kill
    assert service.snapshot().state is TradingState.EMERGENCY_STOP
    assert bot.paper.held("BTC/USDT") == 0  # the kill's flatten sell went past the controls


class TradeEveryTick:
    """Busy but filling: a market buy, then a market sell, on alternate ticks."""

    def __init__(self) -> None:
        self.n = 0

    def on_candle(self, candle: Candle, book: Broker) -> list[Action]:
        self.n += 1
        held = book.held(candle.symbol)
        if book.open_for(candle.symbol):
            return []
        side, qty = (Side.SELL, held) if held > 0 else (Side.BUY, 0.01)
        return [Place(OrderRequest(candle.symbol, side, OrderType.MARKET, qty))]


def test_a_busy_strategy_whose_orders_fill_is_not_a_runaway(data_dir: Path) -> None:
    bot = start_bot(
        data_dir, TradeEveryTick(), max_order_to_fill_ratio=2, order_to_fill_window_s=3_600, max_consecutive_losses=1000
    )
    summary = bot.run(ticks(60, step_s=1.0))
    assert summary.fills >= 25
    assert summary.auto_kill is None
    assert summary.state_at_end == "DRY_RUN"
    assert summary.controls["fills_in_ratio_window"] == summary.fills


def test_an_amend_uses_the_amend_rate_not_the_submit_rate(data_dir: Path) -> None:
    bot = start_bot(data_dir, ReplaceOnCancel(), max_submits_per_s=1, max_amends_per_s=3)
    bot.strategy = type("Idle", (), {"on_candle": lambda self, c, b: []})()
    bot.start()
    try:
        bot.step(next(ticks(1, 1.0)))
        first = bot.place(buy(99.0))
        assert first.accepted
        assert first.order is not None
        order_id = first.order.id
        for i in range(3):
            cancelled, replaced = bot.gate.amend(bot.paper, order_id, buy(98.0 - i))
            assert cancelled.ok
            assert replaced is not None
            assert replaced.accepted, replaced.reason
            assert replaced.order is not None
            order_id = replaced.order.id
        _, fourth = bot.gate.amend(bot.paper, order_id, buy(95.0))
        assert fourth is not None
        assert fourth.code == DenialCode.RISK_RATE
        assert "max_amends_per_s 3" in fourth.reason
        assert bot.place(buy(97.5)).code == DenialCode.RISK_RATE  # the submit budget was spent by the first
    finally:
        bot.finish("test over")


# -- a restart does not hand out a fresh daily cap ------------------------------------------
class WallClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def live_priced_bot(data_dir: Path, clock: WallClock, **risk: object) -> Bot:
    config = NijaConfig(risk=RiskSettings.model_validate(risk))
    service = build_service(data_dir, config=config)
    if service.snapshot().state is not TradingState.DRY_RUN:
        service.restore(OPERATOR)
    idle = type("Idle", (), {"on_candle": lambda self, c, b: []})()
    return Bot(service, config, data_dir, actor="test", strategy=idle, feed_clock=clock)


def test_a_restarted_bot_keeps_counting_todays_orders(data_dir: Path) -> None:
    clock = WallClock(T0 + 3_600)
    first = live_priced_bot(data_dir, clock, max_daily_orders=3)
    first.start()
    first.step(Candle(clock.t, "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0))
    for price in (99.0, 98.9, 98.8):
        assert first.place(buy(price)).accepted
    assert first.place(buy(98.7)).code == DenialCode.RISK_DAILY_ORDERS
    first.finish("crash")

    clock.t += 60
    second = live_priced_bot(data_dir, clock, max_daily_orders=3)
    second.start()
    try:
        second.step(Candle(clock.t, "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0))
        result = second.place(buy(98.6))
        assert result.code == DenialCode.RISK_DAILY_ORDERS
        assert "3 orders on 2026-01-01 reached max_daily_orders 3" in result.reason
        assert any(a.code == "DAILY_CAPS_RESUMED" for a in second.counters.alerts)
    finally:
        second.finish("test over")

    clock.t = T0 + 86_400 + 60  # the next UTC day: a fresh cap
    third = live_priced_bot(data_dir, clock, max_daily_orders=3)
    third.start()
    try:
        third.step(Candle(clock.t, "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0))
        assert third.place(buy(98.5)).accepted
    finally:
        third.finish("test over")


def test_a_replay_does_not_inherit_the_daily_counts_of_an_earlier_replay(data_dir: Path) -> None:
    for _ in range(2):
        bot = start_bot(data_dir, ReplaceOnCancel(), max_daily_orders=30)
        summary = bot.run(ticks(20, step_s=60.0))
        assert summary.denials == {}
        assert summary.orders_placed == 20


@pytest.mark.parametrize(
    "figures",
    [
        {"day": "2026-01-01", "daily_orders": -5, "daily_notional": 1.0},
        {"day": "2026-01-01", "daily_orders": 3.5, "daily_notional": 1.0},
        {"day": "2026-01-01", "daily_orders": True, "daily_notional": 1.0},
        {"day": "2026-01-01", "daily_orders": 2, "daily_notional": float("nan")},
        {"day": 20260101, "daily_orders": 2, "daily_notional": 1.0},
    ],
    ids=["negative", "fraction", "bool", "nan", "day not text"],
)
def test_resuming_ignores_figures_that_are_not_counts(figures: dict[str, object]) -> None:
    from nija.runtime.controls import ControlChain

    chain = ControlChain(RiskSettings(), lambda: T0 + 60)
    assert chain.resume_day(figures["day"], figures["daily_orders"], figures["daily_notional"]) is False
    assert chain.figures()["daily_orders"] == 0


def test_a_bad_tick_alert_never_carries_terminal_escapes_from_the_feed(running: Bot) -> None:
    running.step(Candle(T0 + 180, "BTC\x1b[2J/USDT", math.nan, math.nan, math.nan, math.nan, 1.0))
    (alert,) = [a for a in running.counters.alerts if a.code == "DATA_QUALITY"]
    assert "\x1b" not in alert.message
    assert "'BTC\\x1b[2J/USDT'" in alert.message
