"""What the bot does when trading stops being allowed, and the other local vetoes."""

from __future__ import annotations

from pathlib import Path

from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.feeds import Freshness
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.reaction import Reaction
from nija.runtime.settings import PaperSettings
from tests.runtime.runtime_helpers import candle

KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "the kill file EMERGENCY_STOP exists")
OFF = Permission(False, None, "STATE_OFF", "OFF places no orders")
DRY_RUN = Permission(True, Mode.SIMULATED, "DRY_RUN", "DRY_RUN: orders are simulated")
LIVE = Permission(True, Mode.LIVE, "LIVE_ACTIVE", "LIVE_ACTIVE: orders go to the exchange")


class Fixed:
    """A permission view whose answer the test sets (the real one is covered in test_gate)."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def check(self) -> Permission:
        return self.permission


def setup(tmp_path: Path, *, flatten: bool = False) -> tuple[PaperBroker, OrderGate, Reaction, list[str]]:
    paper = PaperBroker(tmp_path, PaperSettings(starting_cash=10_000.0))
    paper.on_candle(candle(100.0))
    gate = OrderGate(Fixed(DRY_RUN), {Mode.SIMULATED: paper})
    alerts: list[str] = []
    reaction = Reaction(gate, alert=lambda code, message: alerts.append(code), flatten_on_kill=flatten)
    return paper, gate, reaction, alerts


def test_a_kill_cancels_every_open_order_and_completes(tmp_path: Path) -> None:
    paper, gate, reaction, alerts = setup(tmp_path)
    for price in (90.0, 80.0, 70.0):
        assert gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, price)).accepted
    reaction(KILLED)
    assert paper.open_orders() == ()
    assert reaction.kill.complete
    assert alerts == []


def test_flatten_on_kill_closes_holdings_with_market_orders(tmp_path: Path) -> None:
    paper, gate, reaction, _ = setup(tmp_path, flatten=True)
    gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, 2.0))
    paper.on_candle(candle(101.0))
    assert paper.held("BTC/USDT") == 2.0
    gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 50.0))
    reaction(DRY_RUN)  # the watcher's first call: DRY_RUN is the mode that was trading
    reaction(KILLED)
    assert reaction.kill.complete
    (line,) = reaction.kill.flattened
    assert line.startswith("paper sell 2 BTC/USDT at market (order paper-")
    (closing,) = paper.open_orders()
    assert (closing.side, closing.type, closing.quantity) == (Side.SELL, OrderType.MARKET, 2.0)
    paper.on_candle(candle(99.0))
    assert paper.holdings() == ()


def test_without_flatten_a_kill_leaves_positions_alone(tmp_path: Path) -> None:
    paper, gate, reaction, _ = setup(tmp_path)
    gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, 2.0))
    paper.on_candle(candle(101.0))
    reaction(KILLED)
    assert paper.held("BTC/USDT") == 2.0
    assert paper.open_orders() == ()


def test_leaving_dry_run_cancels_paper_orders_without_calling_it_a_kill(tmp_path: Path) -> None:
    paper, gate, reaction, _ = setup(tmp_path)
    gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 90.0))
    reaction(OFF)
    assert paper.open_orders() == ()
    assert not reaction.kill.active
    assert reaction.mode is None


def test_moving_to_live_cancels_the_paper_orders(tmp_path: Path) -> None:
    paper, gate, reaction, _ = setup(tmp_path)
    (tmp_path / "live").mkdir()
    live = PaperBroker(tmp_path / "live", PaperSettings())
    gate = OrderGate(Fixed(DRY_RUN), {Mode.SIMULATED: paper, Mode.LIVE: live})
    reaction = Reaction(gate, alert=lambda code, message: None)
    gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 90.0))
    reaction(LIVE)
    assert paper.open_orders() == ()
    assert reaction.mode is Mode.LIVE


def test_after_a_kill_is_lifted_a_new_kill_is_handled_again(tmp_path: Path) -> None:
    paper, gate, reaction, _ = setup(tmp_path)
    reaction(KILLED)
    reaction(DRY_RUN)
    assert not reaction.kill.active
    gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 90.0))
    reaction(KILLED)
    assert paper.open_orders() == ()
    assert reaction.kill.complete


def test_stale_prices_stop_new_orders() -> None:
    now = [1_000.0]
    freshness = Freshness(60.0, lambda: now[0])
    assert freshness.veto() == ("STALE_DATA", "no price has been received yet")
    freshness.saw_price(1_000.0)
    now[0] += 60.0
    assert freshness.veto() is None  # exactly at the limit: still fresh
    now[0] += 1.0
    verdict = freshness.veto()
    assert verdict is not None
    assert verdict[0] == "STALE_DATA"
    assert "no new price for 61 s (limit 60 s)" in verdict[1]


def test_the_gate_counts_stale_denials(tmp_path: Path) -> None:
    paper = PaperBroker(tmp_path, PaperSettings())
    freshness = Freshness(60.0, lambda: 0.0)
    gate = OrderGate(Fixed(DRY_RUN), {Mode.SIMULATED: paper}, vetoes=[freshness.veto])
    result = gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 90.0))
    assert result.code == "STALE_DATA"
    assert gate.denials == {"STALE_DATA": 1}
    assert paper.open_orders() == ()


def test_a_live_feed_serving_old_candles_is_stale() -> None:
    freshness = Freshness(120.0, lambda: 10_000.0)  # wall clock
    freshness.saw_price(10_000.0 - 600)  # the exchange keeps returning a candle 10 minutes old
    verdict = freshness.veto()
    assert verdict is not None
    assert "no new price for 600 s" in verdict[1]
