"""The dead man's switch per venue, against ccxt's real clients with scripted HTTP
replies: Kraken's unified timer (account-wide), Binance USD-M's countdown cancel-all
(per symbol, exchange-specific), Binance spot and Bybit (honestly unavailable)."""

from __future__ import annotations

import base64
from pathlib import Path

import ccxt

from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.runtime.brokers.deadman import (
    PAUSE_FILE,
    BinanceUsdmCountdown,
    CancelAfter,
    DeadManState,
    Unavailable,
    dead_man_switch_for,
)
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.brokers.owned import OwnedBook
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.reaction import Reaction
from tests.fakes.kraken import FakeKrakenAdapter, FakeKrakenState
from tests.fakes.scripted import scripted_client
from tests.runtime.runtime_helpers import candle

LIVE = Permission(True, Mode.LIVE, "LIVE_ACTIVE", "live")
KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "killed")
BUY = OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 30_000.0)
USDM_MARKET = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT:USDT",
    "base": "BTC",
    "quote": "USDT",
    "settle": "USDT",
    "baseId": "BTC",
    "quoteId": "USDT",
    "settleId": "USDT",
    "type": "swap",
    "spot": False,
    "margin": False,
    "swap": True,
    "future": False,
    "option": False,
    "contract": True,
    "linear": True,
    "inverse": False,
    "active": True,
    "precision": {"amount": 0.001, "price": 0.1},
    "limits": {},
    "info": {},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def kraken_broker(tmp_path: Path, fake: FakeKrakenState, *, pause: Path | None = None) -> ExchangeBroker:
    client = ccxt.kraken({"apiKey": "k", "secret": base64.b64encode(b"s").decode(), "enableRateLimit": False})
    client.session.mount("https://", FakeKrakenAdapter(fake.dir))
    (tmp_path / "data").mkdir(exist_ok=True)
    broker = ExchangeBroker(
        client, OwnedBook(tmp_path / "data", "kraken-t"), quote="USDT", dead_man_switch_s=60, pause_file=pause
    )
    broker.on_candle(candle(40_000.0))
    return broker


def test_each_venue_gets_its_mechanism_or_an_honest_sentence() -> None:
    assert isinstance(dead_man_switch_for(ccxt.kraken()), CancelAfter)
    assert isinstance(dead_man_switch_for(ccxt.binanceusdm()), BinanceUsdmCountdown)
    spot = dead_man_switch_for(ccxt.binance())
    assert isinstance(spot, Unavailable)
    assert spot.why == "NOT AVAILABLE on binance (spot): orders stay open if this bot dies"
    bybit = dead_man_switch_for(ccxt.bybit())  # ccxt lists cancelAllOrdersAfter; it needs a websocket
    assert isinstance(bybit, Unavailable)
    assert "websocket" in bybit.why
    assert "orders stay open if this bot dies" in bybit.why
    assert "websocket" in dead_man_switch_for(ccxt.deribit()).why  # type: ignore[attr-defined]
    assert isinstance(dead_man_switch_for(ccxt.coinbase()), Unavailable)


def test_kraken_arms_with_the_first_live_order_and_refreshes_after_a_third(tmp_path: Path) -> None:
    fake = FakeKrakenState(tmp_path / "kraken")
    broker = kraken_broker(tmp_path, fake)
    assert broker.dead_man_switch_status == "available (60 s), armed with the first live order"
    assert fake.calls("CancelAllOrdersAfter") == []  # nothing armed before a live order
    clock = Clock()
    broker.deadman._clock = clock
    assert broker.place(BUY).accepted
    assert [c["timeout"] for c in fake.calls("CancelAllOrdersAfter")] == [["60"]]
    clock.now += 4
    assert broker.dead_man_switch_status == "armed, 60 s, refreshed 4 s ago"
    broker.keep_alive()
    assert len(fake.calls("CancelAllOrdersAfter")) == 1  # still fresh
    clock.now += 17
    broker.keep_alive()
    assert len(fake.calls("CancelAllOrdersAfter")) == 2


def test_kraken_is_not_armed_while_a_foreign_order_is_on_the_account(tmp_path: Path) -> None:
    fake = FakeKrakenState(tmp_path / "kraken")
    fake.add_foreign()
    broker = kraken_broker(tmp_path, fake)
    assert broker.place(BUY).accepted
    assert fake.calls("CancelAllOrdersAfter") == []  # its trigger would cancel the foreign order too
    assert broker.dead_man_switch_status.startswith("NOT ARMED: a trigger would also cancel orders on the account")


def test_a_pause_file_disarms_for_maintenance(tmp_path: Path) -> None:
    fake = FakeKrakenState(tmp_path / "kraken")
    pause = tmp_path / PAUSE_FILE
    broker = kraken_broker(tmp_path, fake, pause=pause)
    broker.place(BUY)
    pause.touch()
    broker.keep_alive()
    assert [c["timeout"] for c in fake.calls("CancelAllOrdersAfter")] == [["60"], ["0"]]
    assert broker.dead_man_switch_status.startswith("PAUSED for maintenance")
    pause.unlink()
    broker.keep_alive()
    assert [c["timeout"] for c in fake.calls("CancelAllOrdersAfter")][-1] == ["60"]


def test_binance_usdm_countdown_is_armed_per_symbol_and_skipped_where_a_foreign_order_rests() -> None:
    client, http = scripted_client(
        ccxt.binanceusdm, {"/countdownCancelAll": {"symbol": "BTCUSDT", "countdownTime": "60000"}}
    )
    client.set_markets([USDM_MARKET, {**USDM_MARKET, "id": "ETHUSDT", "symbol": "ETH/USDT:USDT", "base": "ETH"}])
    clock = Clock()
    state = DeadManState(dead_man_switch_for(client), 60, paused=lambda: False, clock=clock)
    state.refresh({"BTC/USDT:USDT"}, set())
    (call,) = http.calls("/countdownCancelAll")
    assert (call["symbol"], call["countdownTime"]) == ("BTCUSDT", "60000")
    assert state.status == "armed, 60 s, refreshed 0 s ago"
    state.refresh({"BTC/USDT:USDT", "ETH/USDT:USDT"}, {"ETH/USDT:USDT"})
    disarm = http.calls("/countdownCancelAll")[1:]
    assert [(c["symbol"], c["countdownTime"]) for c in disarm] == [("BTCUSDT", "0")]  # nothing armed for ETH
    assert "ETH/USDT:USDT" in state.status
    assert state.status.startswith("NOT ARMED")


def test_binance_spot_sends_nothing_and_says_so() -> None:
    client, http = scripted_client(ccxt.binance, {})
    state = DeadManState(dead_man_switch_for(client), 60, paused=lambda: False)
    state.refresh({"BTC/USDT"}, set())
    assert http.requests == []
    assert state.status == "NOT AVAILABLE on binance (spot): orders stay open if this bot dies"


def test_a_foreign_order_appearing_while_armed_disarms_the_timer(tmp_path: Path) -> None:
    fake = FakeKrakenState(tmp_path / "kraken")
    broker = kraken_broker(tmp_path, fake)
    assert broker.place(BUY).accepted
    fake.add_foreign()  # a person places an order on the same account while the bot is live
    broker.sync(1.0)  # the bot reads the book (every few seconds while it has orders)
    broker.keep_alive()
    assert [c["timeout"] for c in fake.calls("CancelAllOrdersAfter")] == [["60"], ["0"]]
    assert broker.dead_man_switch_status.startswith("NOT ARMED")


def test_a_kills_closing_orders_never_arm_it_and_a_confirmed_kill_disarms_it(tmp_path: Path) -> None:
    fake = FakeKrakenState(tmp_path / "kraken")
    broker = kraken_broker(tmp_path, fake)
    gate = OrderGate(type("View", (), {"check": lambda self: LIVE})(), {Mode.LIVE: broker})
    reaction = Reaction(gate, alert=lambda c, m: None, flatten_on_kill=True)
    broker.arming_allowed = lambda: reaction.mode is Mode.LIVE  # as the engine wires it
    reaction(LIVE)
    order = broker.place(BUY).order
    assert order is not None
    fake.fill(order.id)
    broker.sync(1.0)
    assert len(fake.calls("CancelAllOrdersAfter")) == 1
    broker.deadman.armed_at = -1e9  # long ago: a live order now would refresh it
    reaction(KILLED)
    assert fake.calls("AddOrder")[-1]["type"] == ["sell"]  # the closing order went out
    assert len(fake.calls("CancelAllOrdersAfter")) == 1  # and armed nothing
    broker.disarm_when_flat()
    assert len(fake.calls("CancelAllOrdersAfter")) == 1  # the closing order is still open: keep the backstop
    (closing,) = broker.open_orders()
    fake.fill(closing.id)
    broker.sync(2.0)
    broker.deadman.armed_at = 0.0
    broker.disarm_when_flat()
    assert fake.calls("CancelAllOrdersAfter")[-1]["timeout"] == ["0"]
