"""The kill receipt end to end: real ``nija run`` processes against the fake Kraken
(ccxt's HTTP layer) or the paper ledger; the receipt read back through ``status --json``,
the API, the audit trail and the runtime report."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from nija.api.app import create_app
from nija.api.tokens import Role, TokenFile
from nija.assembly import build_service
from nija.audit.log import LOG_FILE
from nija.kill_receipt import read_receipt
from tests.conftest import cli_env
from tests.fakes.kraken import FakeKrakenState
from tests.runtime.live_process import CASH_ONLY, CONFIG, OPERATOR, alert_codes, live_bot, report, start_bot
from tests.runtime.runtime_helpers import wait_for


def status_json(data_dir: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "nija", "status", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def audit_kinds(data_dir: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in (data_dir / LOG_FILE).read_text().splitlines()]


# Generous: ccxt's rate limiter spaces Kraken's private calls ~3 s apart, even against the fake.
PATIENT = CONFIG + "kill_receipt_deadline_s = 120\n"


def test_a_dry_run_drill_gets_a_receipt_from_the_paper_ledger(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "nija.toml").write_text(PATIENT)
    fake = FakeKrakenState(tmp_path / "kraken")
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake, pace="0.005")
    try:
        wait_for(lambda: bool((r := report(data_dir)) and r.open_orders), what="a paper order")
        build_service(data_dir).activate_kill("drill", OPERATOR)
        wait_for(lambda: read_receipt(data_dir) is not None, timeout=20, what="the receipt")
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = bot.communicate(timeout=60)
    assert bot.returncode == 0, err
    receipt = read_receipt(data_dir)
    assert receipt is not None
    assert receipt.confirmed
    assert receipt.within_deadline
    assert [b.broker for b in receipt.brokers] == ["paper"]
    assert receipt.brokers[0].own_open == ()
    assert fake.writes() == []
    view = status_json(data_dir)["kill_receipt"]
    assert isinstance(view, dict)
    assert view["confirmed"] is True
    assert str(view["verdict"]).startswith("FLAT: confirmed by paper in ")
    assert "kill_receipt" in audit_kinds(data_dir)
    assert json.loads(out)["kill_receipt"].startswith("FLAT")


def test_a_live_kill_receipt_lists_the_foreign_order_and_reaches_status_and_the_api(
    data_dir: Path, tmp_path: Path
) -> None:
    fake = FakeKrakenState(tmp_path / "kraken", balances=CASH_ONLY)
    foreign = fake.add_foreign()
    with live_bot(data_dir, fake, PATIENT) as bot:
        build_service(data_dir).activate_kill("live kill", OPERATOR)
        wait_for(lambda: (r := read_receipt(data_dir)) is not None and r.trigger == "kill", timeout=20, what="receipt")
        wait_for(lambda: bool((r := report(data_dir)) and r.kill_receipt), timeout=20, what="receipt in the report")
    assert bot.returncode == 0
    receipt = read_receipt(data_dir)
    assert receipt is not None
    assert receipt.confirmed
    (kraken,) = [b for b in receipt.brokers if b.broker == "ccxt:kraken"]
    assert kraken.own_open == ()
    assert [o.id for o in kraken.foreign_open] == [foreign]
    assert foreign in fake.open_orders()
    view = status_json(data_dir)["kill_receipt"]
    assert isinstance(view, dict)
    assert "1 foreign order(s) left alone" in str(view["verdict"])
    token, _ = TokenFile(data_dir).create("viewer", Role.VIEWER, "test")
    with TestClient(create_app(data_dir)) as client:
        body = client.get("/api/status", headers={"Authorization": f"Bearer {token}"}).json()
        runtime = client.get("/api/runtime", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["kill_receipt"]["confirmed"] is True
    assert body["kill_receipt"]["brokers"][-1]["foreign_open"][0]["id"] == foreign
    assert runtime["report"]["kill_receipt"]["confirmed"] is True


def test_an_exchange_that_keeps_listing_the_order_gives_an_unconfirmed_receipt_and_exit_1(
    data_dir: Path, tmp_path: Path
) -> None:
    fake = FakeKrakenState(tmp_path / "kraken", balances=CASH_ONLY)
    with live_bot(data_dir, fake, CONFIG + "kill_receipt_deadline_s = 0.5\ncancel_retries = 1\n") as bot:
        fake.sticky(True)  # the venue answers "cancelled" and keeps listing the order
        build_service(data_dir).activate_kill("live kill", OPERATOR)
        wait_for(lambda: "KILL_NOT_CONFIRMED" in alert_codes(data_dir), timeout=90, what="the unconfirmed receipt")
    assert bot.returncode == 1, bot.err
    summary, _ = json.JSONDecoder().raw_decode(bot.out)  # then the error, also as JSON
    assert summary["kill_receipt_missed"] is True
    assert summary["kill_receipt"].startswith("NOT CONFIRMED")
    receipt = read_receipt(data_dir)
    assert receipt is not None
    assert not receipt.confirmed
    assert receipt.verdict.startswith("NOT CONFIRMED after 0.5 s: 1 own order(s) still listed open")
    assert "kill_not_confirmed" in audit_kinds(data_dir)


def test_an_exchange_that_cannot_be_read_is_unknown_never_flat(data_dir: Path, tmp_path: Path) -> None:
    fake = FakeKrakenState(tmp_path / "kraken", balances=CASH_ONLY)
    with live_bot(data_dir, fake, CONFIG + "kill_receipt_deadline_s = 0.5\n") as bot:
        fake.fail("OpenOrders", "EService:Unavailable")
        build_service(data_dir).activate_kill("live kill", OPERATOR)
        wait_for(lambda: "KILL_NOT_CONFIRMED" in alert_codes(data_dir), timeout=90, what="the unconfirmed receipt")
        fake.fail("OpenOrders", None)  # the venue is back: the retries confirm
        wait_for(lambda: (r := read_receipt(data_dir)) is not None and r.confirmed, timeout=90, what="confirmed")
    assert bot.returncode == 1  # confirmed late: the run still says the deadline was missed
    receipt = read_receipt(data_dir)
    assert receipt is not None
    assert receipt.confirmed
    assert not receipt.within_deadline
