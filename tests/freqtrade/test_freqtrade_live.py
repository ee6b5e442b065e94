"""A live request for a real freqtrade, through the CLI's service (its exchange checks
judged): the bridge reconciles freqtrade's wallet through freqtrade's own API, and every
move out of live cancels a live freqtrade's open orders before it is stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.domain.errors import LiveRequestRefused
from nija.domain.states import TradingState
from nija.exchange_checks import ExchangeChecks, read_checks
from tests.fakes.kraken_server import FakeKraken
from tests.freqtrade.harness import FREQTRADE, free_port, running_freqtrade
from tests.freqtrade.test_freqtrade import FILLING, audit, cli, start_bridge, stop
from tests.guard.helpers import OPERATOR, dry_run, go_live, service
from tests.runtime.runtime_helpers import wait_for

pytestmark = pytest.mark.skipif(
    not FREQTRADE.exists() and not os.environ.get("CI"),
    reason="freqtrade is not installed: run scripts/install_freqtrade.sh",
)

# No dry-run wait before a live request; the bridge reconciles every second.
CONFIG = "[live]\nmin_dry_run_minutes = 0\n\n[exchange]\nreconcile_s = 1\n"

IDLE = '''

class Idle(Resting):
    """Never enters: freqtrade's wallet stays as configured."""

    def populate_entry_trend(self, df: DataFrame, metadata: dict) -> DataFrame:
        df["enter_long"] = 0
        return df
'''


@pytest.fixture
def fake() -> Iterator[FakeKraken]:
    with FakeKraken() as server:
        yield server


def reported(data_dir: Path, status: str, positions: int = 0) -> ExchangeChecks | None:
    """The bridge's checks, once they say ``status`` (with ``positions`` of freqtrade's own)."""
    checks = read_checks(data_dir)
    rec = checks.reconciliation if checks is not None else None
    return checks if rec is not None and (rec.status, rec.own_positions) == (status, positions) else None


def bridge_alive(data_dir: Path) -> bool:
    beat = service(data_dir).snapshot().heartbeat
    return beat is not None and bool(beat.run_id) and not beat.stopped


def leave_live(data_dir: Path, how: str) -> None:
    """A move out of live that is no kill: ``nija reset`` (to OFF), or a move to DRY_RUN."""
    if how == "reset":
        cli("-m", "nija", "reset", "--yes", "--data-dir", str(data_dir))
    else:
        service(data_dir).move(TradingState.DRY_RUN, "back to dry-run", OPERATOR)


@pytest.mark.parametrize(("how", "after", "code"), [("reset", "OFF", "STATE_OFF"), ("dry_run", "DRY_RUN", "DRY_RUN")])
def test_a_cash_only_freqtrade_goes_live_through_the_clis_service_and_leaving_live_cancels_its_order(
    fake: FakeKraken, data_dir: Path, tmp_path: Path, how: str, after: str, code: str
) -> None:
    (data_dir / "nija.toml").write_text(CONFIG)
    dry_run(data_dir)
    port = free_port()
    with running_freqtrade(fake, tmp_path / "ft-dry", data_dir, port=port, extra_strategy=IDLE) as dry:
        bridge = start_bridge(data_dir, dry)
        wait_for(lambda: reported(data_dir, "matching") is not None, timeout=60, what="the bridge's account checks")
        checks = read_checks(data_dir)
        assert checks is not None
        assert (checks.venue, checks.currency) == ("kraken", "USDT")  # freqtrade's exchange and stake
        assert checks.attestation is not None
        assert checks.attestation.status == "unknown"  # freqtrade holds the key: not attested
        assert not checks.dead_man_switch_available
        go_live(data_dir, svc=build_service(data_dir))  # request (exchange checks judged), confirm, verified
    try:
        with running_freqtrade(fake, tmp_path / "ft-live", data_dir, dry_run=False, port=port) as live:
            wait_for(lambda: len(fake.open_orders()) == 1, timeout=90, what="a live entry at the exchange")
            assert live.state() == "running"  # a verified LIVE_ACTIVE lets a live freqtrade trade
            leave_live(data_dir, how)
            wait_for(lambda: fake.open_orders() == {}, timeout=60, what="the live order cancelled at the exchange")
            wait_for(lambda: live.state() == "stopped", timeout=60, what="freqtrade stopped")
            assert live.open_orders() == []
    finally:
        out = stop(bridge)
    snapshot = service(data_dir).snapshot()
    assert (snapshot.state, snapshot.kill_active) == (after, False)
    assert f"freqtrade trades live (dry_run = false) but NIJA is {code}" in out
    assert len(fake.calls("CancelOrder")) == 1
    assert fake.calls("CancelAll") == []  # its own order, by id
    actions = [e["details"]["action"] for e in audit(data_dir) if e["kind"] == "bridge_action"]  # type: ignore[index]
    assert actions[-3] == "stopentry"
    assert actions[-2].startswith("cancel open order of trade")
    assert actions[-1] == "stop"


def test_a_freqtrade_wallet_holding_what_its_trades_do_not_explain_refuses_live_with_the_figures(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    (data_dir / "nija.toml").write_text(CONFIG)
    dry_run(data_dir)
    wallet = {"USDT": 1000.0, "BTC": 0.5}  # freqtrade's dry-run wallet as a dict of currencies
    with running_freqtrade(fake, tmp_path / "ft", data_dir, extra_strategy=IDLE, wallet=wallet) as bot:
        bridge = start_bridge(data_dir, bot)
        try:
            wait_for(lambda: reported(data_dir, "unexplained") is not None, timeout=60, what="the checks")
            wait_for(lambda: bridge_alive(data_dir), timeout=30, what="the bridge's heartbeat")
            with pytest.raises(LiveRequestRefused) as refused:
                build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
        finally:
            stop(bridge)
    assert refused.value.code == "EXPOSURE_UNEXPLAINED"
    assert "0.5 BTC" in str(refused.value)
    assert "tolerance 0.00 USDT" in str(refused.value)
    assert service(data_dir).snapshot().state == "DRY_RUN"  # the refusal wrote nothing
    alerts = [str(e["reason"]) for e in audit(data_dir) if e["kind"] == "bridge_alert"]
    assert any("RECONCILIATION" in a and "0.5 BTC" in a for a in alerts)


def test_freqtrades_own_open_trade_is_explained_and_named_in_the_live_request(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    """A filled dry-run entry: freqtrade's wallet holds its BTC, its open trade explains it,
    and the request says the position carries into live trading."""
    (data_dir / "nija.toml").write_text(CONFIG)
    dry_run(data_dir)
    with running_freqtrade(fake, tmp_path / "ft", data_dir, extra_strategy=FILLING) as bot:
        bridge = start_bridge(data_dir, bot)
        try:
            wait_for(
                lambda: any(t["amount"] > 0 and not t["has_open_orders"] for t in bot.open_trades()),
                timeout=90,
                what="a filled dry-run trade (an open position)",
            )
            wait_for(lambda: reported(data_dir, "matching", positions=1) is not None, timeout=60, what="the checks")
            wait_for(lambda: bridge_alive(data_dir), timeout=30, what="the bridge's heartbeat")
            held = {c["currency"] for c in bot.api("GET", "/balance")["currencies"]}
            request = build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
        finally:
            stop(bridge)
    assert held == {"USDT", "BTC"}  # the wallet holds more than stake currency: the trade's
    assert request.code
    warnings = request.outcome.warnings
    assert any("0 open order(s) and 1 open position(s) on kraken" in w for w in warnings), warnings
    assert any("freqtrade holds the API key" in w for w in warnings), warnings
