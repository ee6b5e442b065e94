"""Invariant 8 in real ``nija run`` processes: the exchange is written only for what the
bot owns, and only when it must. The fake Kraken (ccxt's HTTP layer) counts every
request by endpoint; foreign orders are seeded on the account as a person would have."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

from nija.assembly import build_service
from nija.kill_receipt import read_receipt
from tests.fakes.kraken import FakeKrakenState
from tests.runtime.live_process import (
    CASH_ONLY,
    CONFIG,
    OPERATOR,
    alert_codes,
    go_live,
    live_bot,
    own_open,
    report,
    run_bot,
    start_bot,
)
from tests.runtime.runtime_helpers import wait_for

FOREIGN_NOTE = "1 open order on the account was not placed by this bot: left alone"


def test_a_dry_run_kill_with_credentials_and_flatten_sends_nothing_to_the_exchange(
    data_dir: Path, tmp_path: Path
) -> None:
    (data_dir / "nija.toml").write_text(CONFIG + "flatten_on_kill = true\n")
    fake = FakeKrakenState(tmp_path / "kraken")  # the account holds 0.05 BTC the bot never bought
    foreign = fake.add_foreign()
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake, pace="0.005")
    try:
        wait_for(lambda: bool((r := report(data_dir)) and r.open_orders), what="a paper order")
        build_service(data_dir).activate_kill("drill during a simulation", OPERATOR)
        wait_for(lambda: "KILL_COMPLETE" in alert_codes(data_dir), timeout=20, what="the kill complete")
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = bot.communicate(timeout=60)
    assert bot.returncode == 0, err
    summary = json.loads(out)
    assert summary["kill_complete"] is True
    assert fake.writes() == []  # no cancel, no cancel-all, no dead man's switch, no sell
    assert fake.calls("OpenOrders")  # it did read the account
    assert foreign in fake.open_orders()
    assert summary["foreign_orders"] == 1
    assert any(FOREIGN_NOTE in line for line in summary["alerts"])
    assert any(FOREIGN_NOTE in line for line in summary["notes"])
    r = report(data_dir)
    assert r is not None
    assert [o.id for o in r.foreign_orders] == [foreign]


def test_a_bot_that_never_traded_live_writes_nothing_in_off_or_dry_run(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "nija.toml").write_text(CONFIG)
    fake = FakeKrakenState(tmp_path / "kraken")
    foreign = fake.add_foreign(side="buy", price="1000.0")
    code, off, err = run_bot(data_dir, fake, "--max-candles", "300")
    assert code == 0, err
    assert off["state_at_start"] == "OFF"
    build_service(data_dir).restore(OPERATOR)
    code, dry, err = run_bot(data_dir, fake, "--max-candles", "300")
    assert code == 0, err
    assert dry["orders_placed"] > 0  # it traded, on paper
    assert fake.writes() == []
    assert foreign in fake.open_orders()
    assert off["foreign_orders"] == dry["foreign_orders"] == 1


def test_a_bot_that_traded_live_and_is_killed_cancels_its_own_orders_and_no_other(
    data_dir: Path, tmp_path: Path
) -> None:
    fake = FakeKrakenState(tmp_path / "kraken", balances=CASH_ONLY)
    foreign = fake.add_foreign()
    with live_bot(data_dir, fake, CONFIG) as bot:
        own = set(own_open(fake))
        build_service(data_dir).activate_kill("operator kill while live", OPERATOR)
        wait_for(lambda: not own_open(fake), timeout=20, what="the bot's own orders cancelled")
        wait_for(lambda: "KILL_COMPLETE" in alert_codes(data_dir), timeout=20, what="the kill complete")
    assert bot.returncode == 0, bot.err
    assert foreign in fake.open_orders()
    assert fake.calls("CancelAll") == []
    cancelled = {c["txid"][0] for c in fake.calls("CancelOrder")}
    assert own <= cancelled
    assert foreign not in cancelled
    for sent in fake.calls("AddOrder"):  # every order carried the bot's client id
        assert sent["cl_ord_id"][0].startswith("nija")
    assert json.loads(bot.out)["kill_complete"] is True


def test_a_restarted_bot_still_knows_its_orders_and_cancels_only_those(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "nija.toml").write_text(CONFIG)
    fake = FakeKrakenState(tmp_path / "kraken", balances=CASH_ONLY)
    foreign = fake.add_foreign()
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake)
    try:
        wait_for(lambda: bool((r := report(data_dir)) and r.mode == "simulated"), what="the bot in DRY_RUN")
        go_live(data_dir)
        wait_for(lambda: len(own_open(fake)) >= 1, timeout=90, what="a live order of the bot")
    finally:
        bot.kill()  # dies without cleaning up: its orders stay open at the exchange
        bot.communicate(timeout=60)
    own = set(own_open(fake))
    assert own
    before = len(fake.calls("CancelOrder"))
    code, summary, err = run_bot(data_dir, fake, "--max-candles", "50")
    assert code == 0, err
    assert summary["state_at_start"] == "OFF"  # the restart rule
    assert not own_open(fake)  # its own orders from the dead run: recognised and cancelled
    assert foreign in fake.open_orders()
    assert {c["txid"][0] for c in fake.calls("CancelOrder")[before:]} == own
    assert fake.calls("CancelAll") == []
    assert summary["foreign_orders"] == 1


def test_moving_out_of_live_cancels_only_the_bots_orders_and_writes_a_receipt(data_dir: Path, tmp_path: Path) -> None:
    fake = FakeKrakenState(tmp_path / "kraken", balances=CASH_ONLY)
    foreign = fake.add_foreign()
    with live_bot(data_dir, fake, CONFIG + "kill_receipt_deadline_s = 120\n") as bot:
        build_service(data_dir).reset(OPERATOR)  # LIVE_ACTIVE -> OFF, not a kill
        wait_for(lambda: not own_open(fake), timeout=60, what="the bot's own orders cancelled")
        wait_for(lambda: (r := read_receipt(data_dir)) is not None and r.confirmed, timeout=60, what="the receipt")
    assert bot.returncode == 0
    assert foreign in fake.open_orders()
    assert fake.calls("CancelAll") == []
    receipt = read_receipt(data_dir)
    assert receipt is not None
    assert receipt.trigger == "left live"
    assert [o.id for o in receipt.brokers[0].foreign_open] == [foreign]


def test_a_copy_of_a_live_bots_directory_never_cancels_the_originals_orders(data_dir: Path, tmp_path: Path) -> None:
    """The operator clones a live bot (cp -r) and starts the copy on the same account: the
    original's orders are not the copy's to cancel; the original itself still cancels them."""
    (data_dir / "nija.toml").write_text(CONFIG)
    fake = FakeKrakenState(tmp_path / "kraken", balances=CASH_ONLY)
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake)
    copy = tmp_path / "copy"
    try:
        wait_for(lambda: bool((r := report(data_dir)) and r.mode == "simulated"), what="the bot in DRY_RUN")
        go_live(data_dir)
        wait_for(lambda: len(own_open(fake)) >= 1, timeout=90, what="a live order of the bot")
        shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("*.lock"))  # cloned while live
    finally:
        bot.kill()  # its orders stay open; every cancel from here on is the copy's or the restart's
        bot.communicate(timeout=60)
    originals = set(own_open(fake))
    writes = len(fake.writes())
    (copy / "nija.toml").write_text(CONFIG + "flatten_on_kill = true\n")
    build_service(copy).activate_kill("drill on the copy", OPERATOR)
    code, summary, err = run_bot(copy, fake, "--max-candles", "30")
    assert code == 0, err
    assert summary["kill_complete"] is True
    assert fake.writes()[writes:] == []  # nothing cancelled, nothing sold
    assert set(own_open(fake)) == originals
    assert "FOREIGN_OWNED_RECORDS" in [line.split(":")[0] for line in summary["alerts"]], summary["alerts"]

    code, summary, err = run_bot(data_dir, fake, "--max-candles", "30")  # the original, restarted (OFF)
    assert code == 0, err
    assert not own_open(fake)
    assert {c["txid"][0] for c in fake.calls("CancelOrder")} == originals
    assert "FOREIGN_OWNED_RECORDS" not in [line.split(":")[0] for line in summary["alerts"]]
