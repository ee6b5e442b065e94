"""The bot loop in-process: what it tells the service's metrics and the control centers."""

from __future__ import annotations

import threading
from pathlib import Path

from nija.assembly import build_service
from nija.bot_report import read_report
from nija.config import NijaConfig
from nija.domain.transitions import Who
from nija.observability.metrics import Metrics
from nija.runtime.candles import Candle
from nija.runtime.engine import Bot
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.settings import StrategySettings
from nija.runtime.summary import Summary
from tests.runtime.runtime_helpers import wait_for

OPERATOR = Who("alice@host", "cli")
TRENDING = NijaConfig(strategy=StrategySettings(fast=2, slow=4, min_spread_pct=0, order_type="market"))


def rising_then_falling(n: int = 40) -> list[Candle]:
    prices = [100.0 + i for i in range(n // 2)] + [100.0 + n // 2 - 2 * i for i in range(n // 2)]
    return [Candle(1_767_225_600 + 60 * i, "BTC/USDT", p, p + 0.5, p - 0.5, p, 1.0) for i, p in enumerate(prices)]


def metrics_of(bot: Bot) -> Metrics:
    return next(m for m in bot.service.listeners if isinstance(m, Metrics))


def test_accepted_orders_and_denials_reach_the_metrics(data_dir: Path) -> None:
    service = build_service(data_dir, config=TRENDING)
    service.restore(OPERATOR)
    bot = Bot(service, TRENDING, data_dir, actor="test")
    summary = bot.run(rising_then_falling())
    assert summary.orders_placed > 0
    assert metrics_of(bot).orders_allowed["simulated"] == summary.orders_placed
    report = read_report(data_dir)
    assert report is not None
    assert report.orders_placed == summary.orders_placed


def test_a_kill_reaction_is_timed_into_the_metrics_and_the_report(data_dir: Path) -> None:
    service = build_service(data_dir, config=TRENDING)
    service.restore(OPERATOR)
    bot = Bot(service, TRENDING, data_dir, actor="test")
    release = threading.Event()

    def candles() -> object:
        yield from rising_then_falling(4)
        release.wait(timeout=30)  # hold the loop open while the kill happens

    summaries: list[Summary] = []
    thread = threading.Thread(target=lambda: summaries.append(bot.run(candles())))  # type: ignore[arg-type]
    thread.start()
    try:
        # Two events: the mode is set at the start, the price at the first candle.
        wait_for(
            lambda: bot.reaction.mode is not None and bot.references.get("BTC/USDT") is not None,
            what="the bot in DRY_RUN with a market price",
        )
        reference = bot.references.get("BTC/USDT")
        assert reference is not None
        below = reference.price * 0.97  # inside the 5 % price collar, below the market: it rests
        resting = bot.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, below))
        assert resting.accepted
        service.activate_kill("drill", OPERATOR)
        assert bot.kill_complete.wait(timeout=60)
    finally:
        release.set()
        thread.join(timeout=30)
    assert summaries[0].cancelled >= 1
    assert summaries[0].kill == "the kill file EMERGENCY_STOP exists"
    assert sum(metrics_of(bot).kill_reaction_buckets) == 1
    report = read_report(data_dir)
    assert report is not None
    assert report.open_orders == ()
    assert any(a.code == "KILL_COMPLETE" for a in report.alerts)


def test_an_automatic_kill_quoting_an_exchange_error_with_control_characters_still_kills(data_dir: Path) -> None:
    """People's text with control characters is refused; a risk trigger's is escaped, never refused."""
    from nija.runtime.risk import Trigger

    service = build_service(data_dir, config=TRENDING)
    service.restore(OPERATOR)
    bot = Bot(service, TRENDING, data_dir, actor="test")
    bot._trip(Trigger("EXCHANGE_ERRORS", "5 exchange errors (last: 502: <html>\r\n\x1b[2JBad Gateway</html>)"))
    status = service.status()
    assert status.kill_active
    assert status.last_activation is not None
    assert status.last_activation.reason == "5 exchange errors (last: 502: <html>\\x0d\n\\x1b[2JBad Gateway</html>)"
