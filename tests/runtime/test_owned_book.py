"""What the bot owns on the account, at the broker: client ids persisted before sending,
holdings limited to the bot's own fills, foreign orders and balances never touched.
ccxt's real kraken client against the stateful fake (its HTTP layer only)."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import ccxt
import pytest

from nija.domain.errors import StorageCorrupt
from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.brokers.owned import OwnedBook, OwnedOrder, account_key
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.gate import OrderGate
from nija.runtime.instance import adopt_replaced, instance_of
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.reaction import Reaction
from nija.runtime.settings import PaperSettings
from tests.conftest import Run
from tests.fakes.kraken import FakeKrakenAdapter, FakeKrakenState
from tests.runtime.claims import claim_held
from tests.runtime.runtime_helpers import candle

KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "killed")
LIVE = Permission(True, Mode.LIVE, "LIVE_ACTIVE", "live")
DRY_RUN = Permission(True, Mode.SIMULATED, "DRY_RUN", "dry run")
BUY = OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 30_000.0)


class Fixed:
    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def check(self) -> Permission:
        return self.permission


def live_broker(tmp_path: Path, fake: FakeKrakenState) -> ExchangeBroker:
    client = ccxt.kraken({"apiKey": "k", "secret": base64.b64encode(b"s").decode(), "enableRateLimit": False})
    client.session.mount("https://", FakeKrakenAdapter(fake.dir))
    owned = OwnedBook(tmp_path / "data", account_key("kraken", "k", sandbox=False))
    broker = ExchangeBroker(client, owned, quote="USDT", dead_man_switch_s=0)
    broker.on_candle(candle(40_000.0))
    return broker


@pytest.fixture
def fake(tmp_path: Path) -> FakeKrakenState:
    (tmp_path / "data").mkdir()
    return FakeKrakenState(tmp_path / "kraken")


def test_the_client_id_is_recorded_before_the_order_is_sent(tmp_path: Path, fake: FakeKrakenState) -> None:
    broker = live_broker(tmp_path, fake)
    fake.fail("AddOrder", "EService:Unavailable")  # ccxt: ExchangeNotAvailable, a network error
    assert not broker.place(BUY).accepted
    (sent,) = broker.owned.unsettled()
    assert sent.state == "sent"
    (attempt,) = fake.calls("AddOrder")
    assert attempt["cl_ord_id"] == [sent.client_id]
    # The order did reach the book after all: a new run recognises it by its client id.
    row = _row(fake)
    with fake.book() as state:
        state["orders"]["OLATE"] = {**row, "cl_ord_id": sent.client_id}
    again = live_broker(tmp_path, fake)
    again.reconcile()
    assert [o.id for o in again.open_orders()] == ["OLATE"]
    assert again.foreign == ()


def _row(fake: FakeKrakenState) -> dict[str, object]:
    txid = fake.add_foreign(side="buy", price="30000.0", volume="0.01")
    with fake.book() as state:
        return dict(state["orders"].pop(txid))


def test_a_restarted_broker_knows_its_orders_and_foreign_ones_stay_foreign(
    tmp_path: Path, fake: FakeKrakenState
) -> None:
    foreign = fake.add_foreign()
    first = live_broker(tmp_path, fake)
    mine = first.place(BUY).order
    assert mine is not None
    second = live_broker(tmp_path, fake)  # a new process: only the data directory carries over
    second.reconcile()
    assert [o.id for o in second.open_orders()] == [mine.id]
    assert [o.id for o in second.foreign] == [foreign]
    refused = second.cancel(foreign)
    assert (refused.ok, refused.reason) == (False, "not placed by this bot: left alone")
    assert [c["txid"] for c in fake.calls("CancelOrder")] == []
    assert second.cancel_all()[0].ok
    assert foreign in fake.open_orders()
    assert mine.id not in fake.open_orders()


def test_holdings_are_only_what_the_bots_own_fills_bought(tmp_path: Path, fake: FakeKrakenState) -> None:
    broker = live_broker(tmp_path, fake)  # the account already holds 0.05 BTC
    assert broker.holdings() == ()
    refused = broker.place(OrderRequest("BTC/USDT", Side.SELL, OrderType.MARKET, 0.05))
    assert refused.code == "INSUFFICIENT_HOLDINGS"
    assert fake.calls("AddOrder") == []
    order = broker.place(BUY).order
    assert order is not None
    fake.fill(order.id)
    (fill,) = broker.sync(1.0)
    assert fill.quantity == pytest.approx(0.01)
    (holding,) = broker.holdings()
    assert holding.quantity == pytest.approx(0.01)  # not 0.06: the 0.05 was never the bot's
    assert broker.sync(2.0) == []  # booked once


def test_a_live_kill_flattens_only_what_the_bot_bought(tmp_path: Path, fake: FakeKrakenState) -> None:
    broker = live_broker(tmp_path, fake)
    order = broker.place(BUY).order
    assert order is not None
    fake.fill(order.id)
    broker.sync(1.0)
    gate = OrderGate(Fixed(LIVE), {Mode.LIVE: broker})
    alerts: list[tuple[str, str]] = []
    reaction = Reaction(gate, alert=lambda c, m: alerts.append((c, m)), flatten_on_kill=True)
    reaction(LIVE)
    reaction(KILLED)
    assert reaction.kill.complete
    *_, closing = fake.calls("AddOrder")
    assert (closing["type"], closing["ordertype"], closing["volume"]) == (["sell"], ["market"], ["0.01"])
    (line,) = reaction.kill.flattened
    assert "sell 0.01 BTC/USDT" in line
    assert ("FLATTEN_ORDER", f"closing order sent: {line}") in alerts


def test_a_dry_run_kill_with_flatten_closes_paper_only_and_sends_nothing(tmp_path: Path, fake: FakeKrakenState) -> None:
    broker = live_broker(tmp_path, fake)
    paper = PaperBroker(tmp_path / "data", PaperSettings())
    paper.on_candle(candle(100.0))
    gate = OrderGate(Fixed(DRY_RUN), {Mode.SIMULATED: paper, Mode.LIVE: broker})
    gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, 1.0))
    paper.on_candle(candle(100.0))
    reaction = Reaction(gate, alert=lambda c, m: None, flatten_on_kill=True)
    reaction(DRY_RUN)
    reaction(KILLED)
    assert reaction.kill.complete
    assert [line.split()[0] for line in reaction.kill.flattened] == ["paper"]
    assert fake.writes() == []


def test_an_unreadable_record_of_own_orders_is_refused_not_replaced(tmp_path: Path) -> None:
    key = account_key("kraken", "k", sandbox=False)
    book = OwnedBook(tmp_path, key)
    book.path.write_text("{ not json")
    with pytest.raises(StorageCorrupt, match="cannot be read"):
        OwnedBook(tmp_path, key)
    assert book.path.read_text() == "{ not json"


def test_another_accounts_record_never_claims_this_accounts_orders(tmp_path: Path) -> None:
    one = account_key("kraken", "key-one", sandbox=False)
    other = account_key("kraken", "key-two", sandbox=False)
    assert one != other
    assert account_key("kraken", "key-one", sandbox=True) != one
    assert "key-one" not in one  # the key itself is never written
    mine = OwnedBook(tmp_path, other)
    mine.record_sent(OwnedOrder("nijaabc", "BTC/USDT", "buy", "limit", 1.0, 1.0, "sent"))
    assert not OwnedBook(tmp_path, one).ever_traded  # a separate file per account
    mine.path.rename(OwnedBook(tmp_path, one).path)  # copied under the other account's name
    with pytest.raises(StorageCorrupt, match="belongs to account"):
        OwnedBook(tmp_path, one)


def broker_on(directory: Path, fake: FakeKrakenState) -> ExchangeBroker:
    client = ccxt.kraken({"apiKey": "k", "secret": base64.b64encode(b"s").decode(), "enableRateLimit": False})
    client.session.mount("https://", FakeKrakenAdapter(fake.dir))
    broker = ExchangeBroker(client, OwnedBook(directory, account_key("kraken", "k", sandbox=False)), quote="USDT")
    broker.on_candle(candle(40_000.0))
    return broker


def a_position_and_a_resting_order(broker: ExchangeBroker, fake: FakeKrakenState) -> tuple[Any, Any]:
    """Two live buys of the broker's own: the first filled (a position), the second resting."""
    bought = broker.place(BUY).order
    resting = broker.place(BUY).order
    assert bought is not None
    assert resting is not None
    fake.fill(bought.id)
    broker.sync(1.0)
    return bought, resting


def test_a_copied_directory_never_cancels_or_sells_what_the_original_owns(
    tmp_path: Path, fake: FakeKrakenState
) -> None:
    original = live_broker(tmp_path, fake)
    _bought, resting = a_position_and_a_resting_order(original, fake)
    assert original.held("BTC/USDT") == pytest.approx(0.01)
    shutil.copytree(tmp_path / "data", tmp_path / "copy")  # the operator clones the bot's directory
    writes = len(fake.writes())

    copy = broker_on(tmp_path / "copy", fake)
    copy.reconcile()
    assert copy.open_orders() == ()  # the original's resting order is foreign here
    assert [o.id for o in copy.foreign] == [resting.id]
    assert copy.holdings() == ()  # and its position is not this directory's to sell
    assert copy.owned.foreign_records  # said, so that the operator can decide
    reaction = Reaction(OrderGate(Fixed(LIVE), {Mode.LIVE: copy}), alert=lambda c, m: None, flatten_on_kill=True)
    reaction(LIVE)
    reaction(KILLED)
    assert reaction.kill.complete
    assert fake.writes()[writes:] == []  # no cancel, no closing sell
    assert resting.id in fake.open_orders()

    (tmp_path / "data").rename(tmp_path / "moved")  # the original, moved on its file system: still itself
    moved = broker_on(tmp_path / "moved", fake)
    moved.reconcile()
    assert [o.id for o in moved.open_orders()] == [resting.id]
    assert moved.held("BTC/USDT") == pytest.approx(0.01)
    assert moved.owned.foreign_records == ()


def test_a_restored_directory_owns_its_records_again_only_when_the_operator_adopts_them(
    tmp_path: Path, data_dir: Path, run: Run
) -> None:
    assert data_dir == tmp_path / "data"  # where live_broker keeps its book
    fake = FakeKrakenState(tmp_path / "kraken")
    original = live_broker(tmp_path, fake)
    _bought, resting = a_position_and_a_resting_order(original, fake)
    backup = tmp_path / "backup"
    shutil.copytree(tmp_path / "data", backup)
    shutil.rmtree(tmp_path / "data")
    shutil.copytree(backup, tmp_path / "data")  # restored from the backup: new inodes

    restored = broker_on(tmp_path / "data", fake)
    restored.reconcile()
    assert restored.open_orders() == ()  # orphaned, loudly, until the operator says otherwise
    assert restored.holdings() == ()
    replaced = instance_of(tmp_path / "data").replaced
    assert replaced is not None

    adopted = run("nija", "adopt-orders", "--data-dir", str(tmp_path / "data"), "--yes")
    assert adopted.returncode == 0, adopted.stderr
    again = broker_on(tmp_path / "data", fake)
    again.reconcile()
    assert [o.id for o in again.open_orders()] == [resting.id]
    assert again.held("BTC/USDT") == pytest.approx(0.01)  # merged once
    assert again.owned.foreign_records == ()
    assert instance_of(tmp_path / "data").owns(replaced)  # the guard's earlier client ids too
    nothing = run("nija", "adopt-orders", "--data-dir", str(tmp_path / "data"), "--yes")
    assert "Nothing to adopt" in nothing.stdout
    assert broker_on(tmp_path / "data", fake).held("BTC/USDT") == pytest.approx(0.01)


def test_adopt_orders_is_refused_while_a_fleet_bot_runs_on_the_directory(
    tmp_path: Path, data_dir: Path, run: Run
) -> None:
    """A fleet bot (``nija run --bot NAME``, a bridge) runs on the directory: adopting
    meanwhile would be overwritten by the bot's next save, and the adopted orders would be
    in no record at all."""
    fake = FakeKrakenState(tmp_path / "kraken")
    original = live_broker(tmp_path, fake)
    assert original.place(BUY).order is not None
    backup = tmp_path / "backup"
    shutil.copytree(data_dir, backup)
    shutil.rmtree(data_dir)
    shutil.copytree(backup, data_dir)
    before = sorted((p.name, p.read_bytes()) for p in data_dir.glob(".nija_live_orders.*"))
    with claim_held(data_dir, "alpha"):
        refused = run("nija", "adopt-orders", "--data-dir", str(data_dir), "--yes")
        assert refused.returncode == 3, refused.stdout + refused.stderr
        assert "A bot is running" in refused.stderr
        assert sorted((p.name, p.read_bytes()) for p in data_dir.glob(".nija_live_orders.*")) == before


def test_a_copy_of_an_adopting_copy_can_take_back_the_whole_chain(tmp_path: Path) -> None:
    """A directory restored twice (A, restored as B, which adopted A's, restored as C): C's
    adoption takes back A's ids too, or the guard's orders still tagged A stay orphaned."""
    first = tmp_path / "a"
    first.mkdir()
    original = instance_of(first).id
    second, third = tmp_path / "b", tmp_path / "c"
    shutil.copytree(first, second)
    assert instance_of(second).replaced == original
    assert adopt_replaced(second).owns(original)
    shutil.copytree(second, third)
    copied = instance_of(third)
    assert not copied.owns(original)  # a copy owns nothing of its sources until adopted
    adopted = adopt_replaced(third)
    assert adopted.owns(original)
    assert adopted.owns(instance_of(second).id)
    assert instance_of(third) == adopted  # recorded


def test_a_restore_of_a_copy_that_never_adopted_its_source_does_not_take_the_source(tmp_path: Path) -> None:
    """A copied as B, run as a bot of its own (never adopted A); B restored as C: adopting
    C takes back B's, never A's (A may be another bot, running)."""
    first, second, third = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    first.mkdir()
    original = instance_of(first).id
    shutil.copytree(first, second)
    middle = instance_of(second).id
    shutil.copytree(second, third)
    instance_of(third)
    adopted = adopt_replaced(third)
    assert adopted.owns(middle)
    assert not adopted.owns(original)
