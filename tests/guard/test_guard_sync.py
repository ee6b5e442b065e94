"""nija.guard on a sync ccxt kraken client whose servers are a local fake: in every
state, what reaches the exchange, what the paper ledger holds, what the bot sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import ccxt
import pytest

import nija
from nija.guarded import MethodRefused, OrderRefused
from nija.guarded.methods import ORDER_METHODS
from tests.conftest import REPO, cli_env
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import OPERATOR, dry_run, go_live, kill, kraken, ledger_orders, service, writes
from tests.runtime.runtime_helpers import wait_for

SYMBOL = "BTC/USDT"

# Arguments for each order-placing method the guard decides (a limit buy far below the market).
ORDER_CALLS: dict[str, tuple[Any, ...]] = {
    "create_order": (SYMBOL, "limit", "buy", 0.01, 30_000.0),
    "create_limit_order": (SYMBOL, "buy", 0.01, 30_000.0),
    "create_market_order": (SYMBOL, "buy", 0.01),
    "create_limit_buy_order": (SYMBOL, 0.01, 30_000.0),
    "create_limit_sell_order": (SYMBOL, 0.01, 60_000.0),
    "create_market_buy_order": (SYMBOL, 0.01),
    "create_market_sell_order": (SYMBOL, 0.01),
    "create_post_only_order": (SYMBOL, "limit", "buy", 0.01, 30_000.0),
    "create_reduce_only_order": (SYMBOL, "limit", "sell", 0.01, 60_000.0),
    "create_stop_order": (SYMBOL, "limit", "sell", 0.01, 30_000.0, 31_000.0),
    "create_stop_limit_order": (SYMBOL, "sell", 0.01, 30_000.0, 31_000.0),
    "create_stop_market_order": (SYMBOL, "sell", 0.01, 31_000.0),
    "create_orders": ([{"symbol": SYMBOL, "type": "limit", "side": "buy", "amount": 0.01, "price": 30_000.0}],),
    "edit_order": ("O00001-FAKE-KRAKEN", SYMBOL, "limit", "buy", 0.01, 30_000.0),
    "edit_limit_order": ("O00001-FAKE-KRAKEN", SYMBOL, "buy", 0.01, 30_000.0),
    "edit_limit_buy_order": ("O00001-FAKE-KRAKEN", SYMBOL, 0.01, 30_000.0),
    "edit_limit_sell_order": ("O00001-FAKE-KRAKEN", SYMBOL, 0.01, 60_000.0),
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def test_every_decided_order_method_has_a_test_call() -> None:
    assert set(ORDER_CALLS) == ORDER_METHODS


# -- refused states --------------------------------------------------------------------
@pytest.mark.parametrize("state", ["OFF", "EMERGENCY_STOP", "LIVE_PENDING_CONFIRMATION"])
@pytest.mark.parametrize("name", sorted(ORDER_CALLS))
def test_outside_dry_run_and_live_every_order_method_is_refused_and_nothing_is_sent(
    state: str, name: str, fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    exchange = guarded()
    if state == "EMERGENCY_STOP":
        kill(data_dir)
    elif state == "LIVE_PENDING_CONFIRMATION":
        svc = service(data_dir)
        svc.restore(OPERATOR)
        svc.request_live(OPERATOR, credentials_configured=True)
    assert service(data_dir).snapshot().state == state
    for spelled in (name, camel(name)):
        with pytest.raises(OrderRefused) as refused:
            getattr(exchange, spelled)(*ORDER_CALLS[name])
        assert isinstance(refused.value, ccxt.OperationRejected | ccxt.ExchangeError)
        assert refused.value.code in {"STATE_OFF", "KILL_SWITCH_ACTIVE", "STATE_LIVE_PENDING_CONFIRMATION"} | {
            "NOT_OWN_ORDER"  # an edit names an order the guard never placed: refused before asking
        }
    assert writes(fake) == []
    assert ledger_orders(data_dir) == []


def test_a_refusal_is_caught_by_the_bots_existing_ccxt_handler(data_dir: Path, guarded: Any) -> None:
    exchange = guarded()
    kill(data_dir, "operator says stop")
    caught: ccxt.ExchangeError | None = None
    try:
        exchange.create_limit_buy_order(SYMBOL, 0.01, 30_000.0)
    except ccxt.ExchangeError as exc:  # what a ccxt bot already writes
        caught = exc
    assert caught is not None
    assert "KILL_SWITCH_ACTIVE" in str(caught)
    assert caught.code == "KILL_SWITCH_ACTIVE"
    assert caught.exit_code == 3


# -- DRY_RUN: the paper broker ---------------------------------------------------------
def test_dry_run_orders_go_to_the_paper_ledger_and_never_to_the_exchange(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    order = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    assert order["id"].startswith("paper-")
    assert (order["status"], order["symbol"], order["side"], order["type"]) == ("open", SYMBOL, "buy", "limit")
    assert (order["amount"], order["filled"], order["remaining"], order["price"]) == (0.01, 0.0, 0.01, 42_000.0)
    assert order["clientOrderId"].startswith("nj")
    assert ledger_orders(data_dir) == [(order["id"], SYMBOL, "open")]
    assert writes(fake) == []
    # The bot reads its simulated order back with the calls it uses for real ones.
    assert [o["id"] for o in exchange.fetch_open_orders(SYMBOL)] == [order["id"]]
    assert exchange.fetch_order(order["id"], SYMBOL)["status"] == "open"
    balance = exchange.fetch_balance()
    assert balance["USDT"]["total"] == 10_000.0
    assert balance["USDT"]["used"] == pytest.approx(0.01 * 42_000 * 1.001)
    cancelled = exchange.cancel_order(order["id"], SYMBOL)
    assert cancelled["status"] == "canceled"
    assert exchange.fetch_open_orders(SYMBOL) == []
    assert ledger_orders(data_dir) == [(order["id"], SYMBOL, "cancelled")]
    assert writes(fake) == []


def test_dry_run_market_orders_fill_at_the_exchanges_price_with_slippage(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    bought = exchange.create_market_buy_order(SYMBOL, 0.1)
    assert bought["status"] == "closed"
    assert bought["filled"] == 0.1
    assert bought["average"] == pytest.approx(fake.price * 1.0005)  # default slippage 0.05 %
    positions = exchange.fetch_positions()
    assert [(p["symbol"], p["contracts"]) for p in positions] == [(SYMBOL, 0.1)]
    assert exchange.fetch_balance()["BTC"]["total"] == pytest.approx(0.1)
    # A resting limit sell fills once the bot sees the price cross it.
    sell = exchange.create_limit_sell_order(SYMBOL, 0.1, fake.price + 500)
    assert exchange.fetch_order(sell["id"])["status"] == "open"
    fake.price += 1_000
    exchange.fetch_ticker(SYMBOL)
    assert exchange.fetch_order(sell["id"])["status"] == "closed"
    assert exchange.fetch_positions() == []
    assert writes(fake) == []


def test_dry_run_refuses_what_the_paper_broker_cannot_simulate(fake: FakeKraken, data_dir: Path, guarded: Any) -> None:
    dry_run(data_dir)
    exchange = guarded()
    with pytest.raises(OrderRefused, match="PAPER_UNSUPPORTED"):
        exchange.create_stop_limit_order(SYMBOL, "sell", 0.01, 30_000.0, 31_000.0)
    with pytest.raises(OrderRefused, match="PAPER_UNSUPPORTED"):
        exchange.create_order(SYMBOL, "stop-loss", "sell", 0.01, 30_000.0)
    assert ledger_orders(data_dir) == []
    assert writes(fake) == []


def test_pre_trade_controls_deny_with_their_code(fake: FakeKraken, data_dir: Path, guarded: Any) -> None:
    dry_run(data_dir)
    exchange = guarded()
    with pytest.raises(OrderRefused) as refused:
        exchange.create_limit_buy_order(SYMBOL, 0.15, 42_000.0)  # 6,300 > max_order_notional 5,000
    assert refused.value.code == "RISK_MAX_ORDER"
    with pytest.raises(OrderRefused) as refused:
        exchange.create_limit_buy_order(SYMBOL, 0.01, 30_000.0)  # 30 % under the exchange's last price
    assert refused.value.code == "RISK_PRICE_COLLAR"
    assert "43,000" in refused.value.reason  # the reference: the exchange's ticker
    for bad in (float("nan"), -1.0, 0.0):
        with pytest.raises(OrderRefused, match="BAD_ORDER"):
            exchange.create_limit_buy_order(SYMBOL, bad, 42_000.0)
    assert ledger_orders(data_dir) == []


# -- LIVE_ACTIVE: the exchange, with the guard's client ids ---------------------------------
def test_live_orders_reach_the_exchange_with_the_guards_client_ids(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    first = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    second = exchange.createOrder(SYMBOL, "limit", "buy", 0.01, 42_000.0, {"clientOrderId": "mybot7"})
    sent = fake.calls("AddOrder")
    assert [s["ordertype"] for s in sent] == ["limit", "limit"]
    client_ids = [s["cl_ord_id"] for s in sent]
    assert client_ids[0].startswith("nj")
    assert client_ids[0].isalnum()
    assert client_ids[1] == "mybot7"  # the bot's own id is kept
    assert {first["id"], second["id"]} == set(fake.open_orders())
    assert ledger_orders(data_dir) == []  # nothing simulated
    # Live reads go to the exchange.
    assert {o["id"] for o in exchange.fetch_open_orders()} == set(fake.open_orders())


def test_exchange_errors_in_live_reach_the_bot_unchanged(fake: FakeKraken, data_dir: Path, guarded: Any) -> None:
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    fake.fail("AddOrder", "EOrder:Insufficient funds")
    with pytest.raises(ccxt.InsufficientFunds):
        exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)


def test_a_hand_edited_live_active_is_refused(fake: FakeKraken, data_dir: Path, guarded: Any) -> None:
    dry_run(data_dir)
    exchange = guarded()
    path = data_dir / ".nija_trading_state.json"
    record = json.loads(path.read_text())
    record["current_state"] = "LIVE_ACTIVE"
    path.write_text(json.dumps(record))
    with pytest.raises(OrderRefused):
        exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    with pytest.raises(MethodRefused):
        exchange.withdraw("BTC", 1, "bc1qaddress")
    assert writes(fake) == []


# -- the allow-list --------------------------------------------------------------------------
UNKNOWN_ORDER_METHODS = [
    ("create_trailing_percent_order", (SYMBOL, "sell", 0.01)),
    ("createOrderWithTakeProfitAndStopLoss", (SYMBOL, "limit", "buy", 0.01, 42_000.0)),
    ("create_market_buy_order_with_cost", (SYMBOL, 100.0)),
    ("create_order_ws", (SYMBOL, "limit", "buy", 0.01, 42_000.0)),
    ("close_position", (SYMBOL,)),
    ("private_post_addorder", ({"pair": "XBTUSDT", "type": "buy", "ordertype": "market", "volume": "1"},)),
    ("privatePostAddOrder", ({"pair": "XBTUSDT", "type": "buy", "ordertype": "market", "volume": "1"},)),
    ("request", ("AddOrder", "private", "POST", {"pair": "XBTUSDT"})),
]
FUNDS_METHODS = [
    ("withdraw", ("BTC", 1.0, "bc1qaddress")),
    ("transfer", ("USDT", 100.0, "spot", "futures")),
    ("set_leverage", (5, SYMBOL)),
    ("set_margin_mode", ("isolated", SYMBOL)),
]  # cancel_all_orders_after: never armed, see test_guard_cancel_params.py


@pytest.mark.parametrize("live", [False, True], ids=["dry_run", "live_active"])
@pytest.mark.parametrize(("name", "args"), UNKNOWN_ORDER_METHODS, ids=[n for n, _ in UNKNOWN_ORDER_METHODS])
def test_order_methods_not_on_the_allow_list_are_refused_in_every_state(
    live: bool, name: str, args: tuple[Any, ...], fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    if live:
        go_live(data_dir)
    with pytest.raises(MethodRefused) as refused:
        getattr(exchange, name)(*args)
    assert refused.value.code == "NOT_ON_ALLOW_LIST"
    assert isinstance(refused.value, ccxt.PermissionDenied)
    assert writes(fake) == []


@pytest.mark.parametrize(("name", "args"), FUNDS_METHODS, ids=[n for n, _ in FUNDS_METHODS])
def test_funds_moving_methods_pass_only_in_a_verified_live_active(
    name: str, args: tuple[Any, ...], fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    exchange = guarded()
    for prepare in (lambda: None, lambda: dry_run(data_dir)):  # OFF, then DRY_RUN
        prepare()
        with pytest.raises(MethodRefused) as refused:
            getattr(exchange, name)(*args)
        assert refused.value.code == "LIVE_ONLY"
        assert "LIVE_ACTIVE" in str(refused.value)
    assert writes(fake) == []
    go_live(data_dir)
    try:
        getattr(exchange, name)(*args)
    except MethodRefused:
        pytest.fail(f"{name} was refused in a verified LIVE_ACTIVE")
    except ccxt.BaseError:
        pass  # the fake (or ccxt for kraken) does not support it: what matters is the guard let it go


def test_public_market_data_passes_during_a_kill_and_a_foreign_cancel_does_not(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    exchange = guarded()
    kill(data_dir)
    assert exchange.fetch_ticker(SYMBOL)["last"] == fake.price
    assert len(exchange.fetch_ohlcv(SYMBOL, "1m")) > 100
    assert exchange.fetchOrderBook(SYMBOL)["bids"]
    assert SYMBOL in exchange.load_markets()
    assert exchange.id == "kraken"
    assert exchange.has["createOrder"]
    with pytest.raises(OrderRefused, match="NOT_OWN_ORDER"):  # not the bot's to cancel, in any state
        exchange.cancel_order("OSOMEONE-ELSES-ORDER", SYMBOL)
    assert fake.calls("CancelOrder") == []


# -- kills and the watcher ----------------------------------------------------------------
def test_a_kill_cancels_the_bots_own_live_orders_and_nothing_else(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    foreign = kraken(fake).create_limit_buy_order(SYMBOL, 0.02, 39_000.0)["id"]  # another program's order
    own = [exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0 + i)["id"] for i in range(3)]
    subprocess.run(
        [sys.executable, str(REPO / "emergency_kill_switch.py"), "activate", "--data-dir", str(data_dir), "stop it"],
        env=cli_env(),
        check=True,
        capture_output=True,
        timeout=60,
    )
    wait_for(lambda: not (set(own) & set(fake.open_orders())), timeout=20, what="own orders cancelled")
    assert set(fake.open_orders()) == {foreign}
    assert sorted(c["txid"] for c in fake.calls("CancelOrder")) == sorted(own)
    assert fake.calls("CancelAll") == []
    with pytest.raises(OrderRefused, match="KILL_SWITCH_ACTIVE"):
        exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    wait_for(lambda: exchange.nija.reaction.kill.complete, timeout=20, what="the kill reported complete")


def test_a_kill_cancels_open_paper_orders(data_dir: Path, guarded: Any) -> None:
    dry_run(data_dir)
    exchange = guarded()
    order = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    (data_dir / "EMERGENCY_STOP").touch()  # the bare kill file: adopted and recorded by the guard
    wait_for(lambda: ledger_orders(data_dir) == [(order["id"], SYMBOL, "cancelled")], timeout=20, what="cancel")
    wait_for(lambda: bool(service(data_dir).history()[1]), timeout=20, what="the kill file recorded")
    assert service(data_dir).history()[1][-1].source == "FILE_SYSTEM"  # as nija run records it
    (data_dir / "EMERGENCY_STOP").unlink()  # recorded: deleting the file deactivates nothing
    with pytest.raises(OrderRefused, match="KILL_SWITCH_ACTIVE"):
        exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)


def test_a_second_guard_on_the_same_directory_is_refused(data_dir: Path, fake: FakeKraken, guarded: Any) -> None:
    from nija.domain.errors import BotAlreadyRunning

    guarded()
    with pytest.raises(BotAlreadyRunning, match="already running"):
        nija.guard(kraken(fake), data_dir=data_dir)


def test_a_live_confirmation_for_another_run_moves_no_money(data_dir: Path, fake: FakeKraken, guarded: Any) -> None:
    """A copy of a LIVE_ACTIVE record (a backup, another directory's confirmation) names
    another run: this run refuses it, raises the kill, and sends nothing."""
    import shutil

    other = data_dir.parent / "other"
    other.mkdir()
    dry_run(other)
    donor = nija.guard(kraken(fake), data_dir=other)
    try:
        go_live(other)
    finally:
        donor.close()
    dry_run(data_dir)
    exchange = guarded()
    shutil.copy(other / ".nija_trading_state.json", data_dir / ".nija_trading_state.json")
    with pytest.raises(OrderRefused) as refused:
        exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    assert refused.value.code in ("LIVE_NOT_VERIFIED", "KILL_SWITCH_ACTIVE")
    wait_for(lambda: service(data_dir).snapshot().kill_active, timeout=20, what="the incident raising the kill")
    assert fake.calls("AddOrder") == []


def test_status_sees_the_guarded_bot_alive_then_stopped(data_dir: Path, guarded: Any) -> None:
    exchange = guarded()

    def alive() -> bool:
        out = subprocess.run(
            [sys.executable, "-m", "nija", "status", "--json", "--data-dir", str(data_dir)],
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return bool(json.loads(out.stdout)["bot"]["alive"])

    assert alive()
    exchange.close()
    assert not alive()


def test_the_guard_refuses_what_is_not_a_ccxt_exchange(data_dir: Path, fake: FakeKraken) -> None:
    from nija.domain.errors import UsageProblem

    with pytest.raises(UsageProblem, match="ccxt exchange"):
        nija.guard(object(), data_dir=data_dir)
    with pytest.raises(UsageProblem, match="does not exist"):
        nija.guard(kraken(fake), data_dir=data_dir / "missing")


def test_raw_signed_writes_are_refused_on_other_venues_too(data_dir: Path) -> None:
    from nija.guarded.methods import Kind, classify

    dry_run(data_dir)
    exchange = nija.guard(ccxt.hyperliquid(), data_dir=data_dir)  # orders go through privatePostExchange
    try:
        go_live(data_dir)
        for name in ("private_post_exchange", "privatePostExchange"):
            with pytest.raises(MethodRefused, match="NOT_ON_ALLOW_LIST"):
                getattr(exchange, name)({"action": {"type": "order"}})
    finally:
        exchange.close()
    assert classify("publicPostInfo") is Kind.READ  # unsigned market data, even as a POST
    assert classify("sapiPostMarginLoan") is Kind.ORDER_UNKNOWN
    assert classify("privateGetBalance") is Kind.LIVE_ONLY
    assert classify("someMethodCcxtAddsNextYear") is Kind.LIVE_ONLY


def test_live_edits_only_the_bots_own_orders(fake: FakeKraken, data_dir: Path, guarded: Any) -> None:
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    foreign = kraken(fake).create_limit_buy_order(SYMBOL, 0.02, 39_000.0)["id"]
    with pytest.raises(OrderRefused) as refused:
        exchange.edit_order(foreign, SYMBOL, "limit", "buy", 0.02, 39_500.0)
    assert refused.value.code == "NOT_OWN_ORDER"
    assert fake.calls("EditOrder") == []
    assert fake.calls("AmendOrder") == []


def test_a_closed_guard_decides_and_answers_nothing(data_dir: Path, guarded: Any) -> None:
    dry_run(data_dir)
    exchange = guarded()
    exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    exchange.close()
    with pytest.raises(OrderRefused, match="GUARD_CLOSED"):
        exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    with pytest.raises(OrderRefused, match="GUARD_CLOSED"):
        exchange.fetch_open_orders(SYMBOL)


def test_a_runaway_bot_trips_the_breaker_into_a_latched_kill(fake: FakeKraken, data_dir: Path, guarded: Any) -> None:
    """A bot stuck in a loop re-sending the same order: duplicates are denied, and past
    runaway_max_denials the guard raises the kill itself (recorded, orders cancelled)."""
    (data_dir / "nija.toml").write_text(
        "[risk]\nmax_identical_orders = 1\nrunaway_max_denials = 3\nduplicate_window_s = 600\n"
    )
    dry_run(data_dir)
    exchange = guarded()
    first = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    codes = []
    for _ in range(6):
        with pytest.raises(OrderRefused) as refused:
            exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
        codes.append(refused.value.code)
    assert codes[0] == "RISK_DUPLICATE"
    assert codes[-1] == "KILL_SWITCH_ACTIVE"
    kills = service(data_dir).history()[1]
    assert kills[-1].source == "AUTO_RUNAWAY_ORDERS"
    wait_for(lambda: ledger_orders(data_dir) == [(first["id"], SYMBOL, "cancelled")], timeout=20, what="cancel")


def test_a_kill_whose_cancels_fail_says_so_and_retries_until_done(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    own = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)["id"]
    fake.fail("CancelOrder", "EService:Unavailable")
    kill(data_dir, "cancel failures")
    wait_for(lambda: any(a.code == "KILL_INCOMPLETE" for a in exchange.nija.alerts), timeout=30, what="alert")
    assert own in fake.open_orders()
    assert not exchange.nija.reaction.kill.complete  # never reported complete while an order is open
    del fake.failures["CancelOrder"]
    wait_for(lambda: own not in fake.open_orders(), timeout=30, what="the retried cancel")
    wait_for(lambda: exchange.nija.reaction.kill.complete, timeout=30, what="the kill complete")
