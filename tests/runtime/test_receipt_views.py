"""The kill receipt where operators read it: Prometheus gauges (from the audit event),
the TUI's bot panel, and the verdict line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from nija.assembly import build_service
from nija.bot_report import BotReport
from nija.cli.show_status import CHECKS_FILE, RECEIPT_FILE
from nija.domain.transitions import Who
from nija.exchange_checks import CHECKS_FILE as WRITTEN_CHECKS
from nija.kill_receipt import RECEIPT_FILE as WRITTEN_RECEIPT
from nija.kill_receipt import BrokerReceipt, KillReceipt, ReceiptOrder, ReceiptPosition
from nija.observability.metrics import Metrics
from nija.runtime.receipt_wiring import receipt_event
from nija.tui.frame import Frame, parse
from nija.tui.render import runtime_text
from nija.views import StatusView


def receipt(*, confirmed: bool) -> KillReceipt:
    foreign = ReceiptOrder(id="OFRGN1", symbol="BTC/USDT", side="sell", type="limit", quantity=0.01, price=90_000.0)
    own = ReceiptOrder(id="OWN1", symbol="BTC/USDT", side="buy", type="limit", quantity=0.01, price=30_000.0)
    return KillReceipt(
        trigger="kill",
        reason="test",
        run_id="r1",
        noticed_at="2026-01-01T00:00:00+00:00",
        written_at="2026-01-01T00:00:01+00:00",
        confirmed=confirmed,
        seconds_to_flat=0.842 if confirmed else None,
        deadline_s=10.0,
        within_deadline=confirmed,
        attempts=3,
        currency="USDT",
        brokers=(
            BrokerReceipt(
                broker="ccxt:kraken",
                confirmed=confirmed,
                own_open=() if confirmed else (own,),
                foreign_open=(foreign,),
                positions=(ReceiptPosition(symbol="BTC/USDT", quantity=0.01, value=400.0),),
                residual_exposure=400.0,
            ),
        ),
    )


def test_the_verdict_says_what_remains() -> None:
    assert receipt(confirmed=True).verdict == (
        "FLAT: confirmed by ccxt:kraken in 0.842 s; 1 foreign order(s) left alone; residual exposure 400.00 USDT"
    )
    assert receipt(confirmed=False).verdict.startswith(
        "NOT CONFIRMED after 10 s: 1 own order(s) still listed open; 1 foreign order(s) left alone"
    )


def test_the_receipt_reaches_prometheus_through_its_event(data_dir: Path) -> None:
    metrics = Metrics(build_service(data_dir).status)
    metrics(receipt_event(receipt(confirmed=False), Who("bot@host", "bot")))
    text = metrics.exposition().decode()
    assert "nija_kill_receipt_confirmed 0.0" in text
    assert 'nija_kill_receipt_open_orders{owner="own"} 1.0' in text
    assert 'nija_kill_receipt_open_orders{owner="foreign"} 1.0' in text
    assert "nija_kill_receipt_residual_exposure 400.0" in text
    metrics(receipt_event(receipt(confirmed=True), Who("bot@host", "bot")))
    text = metrics.exposition().decode()
    assert "nija_kill_receipt_confirmed 1.0" in text
    assert "nija_kill_receipt_seconds_to_flat 0.842" in text


def test_the_tui_bot_panel_shows_the_receipt_and_the_dead_man_switch() -> None:
    report = BotReport(
        updated_at=datetime.now(UTC).isoformat(),
        mode="none",
        broker="ccxt:kraken",
        kill_receipt=receipt(confirmed=False),
        dead_man_switch="NOT AVAILABLE on binance (spot): orders stay open if this bot dies",
    )
    status = parse(
        StatusView,
        {
            "state": "EMERGENCY_STOP",
            "kill_switch": {
                "active": True,
                "kill_file_exists": True,
                "record_active": True,
                "reason": "x",
                "since": None,
                "source": None,
                "actor": None,
                "seen": "",
            },
            "can_trade": False,
            "permission": {"code": "KILL_SWITCH_ACTIVE", "reason": "x"},
            "mode": None,
            "bot": {"alive": True, "pid": 1, "host": "h", "last_heartbeat": None},
            "inconsistencies": [],
            "recent_history": [],
            "store": "x",
            "checked_at": datetime.now(UTC).isoformat(),
        },
    )
    text = runtime_text(Frame(status, report, "")).plain
    assert "Kill receipt: NOT CONFIRMED after 10 s" in text
    assert "Dead man's switch: NOT AVAILABLE on binance (spot)" in text


def test_status_reads_the_files_the_bot_writes() -> None:
    assert (RECEIPT_FILE, CHECKS_FILE) == (WRITTEN_RECEIPT, WRITTEN_CHECKS)
