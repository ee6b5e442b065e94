"""A real freqtrade process under NIJA: its strategy asks NIJA before every entry, and
``nija bridge freqtrade`` (a real CLI process) stops it through freqtrade's REST API."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env
from tests.fakes.kraken_server import FakeKraken
from tests.freqtrade.harness import FREQTRADE, PASSWORD, USER, Freqtrade, free_port, running_freqtrade
from tests.guard.helpers import dry_run, go_live, service
from tests.runtime.runtime_helpers import wait_for

pytestmark = pytest.mark.skipif(
    not FREQTRADE.exists() and not os.environ.get("CI"),
    reason="freqtrade is not installed: run scripts/install_freqtrade.sh",
)


@pytest.fixture
def fake() -> Iterator[FakeKraken]:
    with FakeKraken() as server:
        yield server


def audit(data_dir: Path) -> list[dict[str, object]]:
    path = data_dir / ".nija_audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def start_bridge(data_dir: Path, bot: Freqtrade, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nija", "bridge", "freqtrade", "--data-dir", str(data_dir), "--url", bot.url, *extra],
        env=cli_env(FREQTRADE_USERNAME=USER, FREQTRADE_PASSWORD=PASSWORD),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    return out


def cli(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, *args], env=cli_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)


def test_entries_follow_nija_and_a_cli_kill_leaves_freqtrade_stopped_with_nothing_open(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    with running_freqtrade(fake, tmp_path / "ft", data_dir) as bot:
        bridge = start_bridge(data_dir, bot)
        try:
            # NIJA is OFF: the strategy's confirm_trade_entry says no, freqtrade opens nothing.
            wait_for(
                lambda: "NIJA refused the entry for BTC/USDT (STATE_OFF)" in bot.log_text(),
                timeout=90,
                what="freqtrade asking NIJA and being refused",
            )
            assert bot.open_trades() == []
            cli(str(REPO / "safe_restore_trading.py"), "restore", "--yes", "--data-dir", str(data_dir))
            wait_for(lambda: len(bot.open_orders()) == 1, timeout=60, what="a resting dry-run entry order")
            cli(str(REPO / "emergency_kill_switch.py"), "activate", "--data-dir", str(data_dir), "operator kill")
            wait_for(lambda: bot.state() == "stopped", timeout=60, what="the bridge stopping freqtrade")
            assert bot.open_orders() == []  # freqtrade's own API: nothing open
            assert bot.open_trades() == []  # the unfilled entry was cancelled, so its trade is gone
        finally:
            out = stop(bridge)
    assert fake.calls("AddOrder") == []  # dry-run: nothing reached the exchange
    assert "freqtrade stopped (stopped): no open orders" in out
    actions = [e["details"]["action"] for e in audit(data_dir) if e["kind"] == "bridge_action"]  # type: ignore[index]
    assert actions[0] == "stopentry"
    assert any(a.startswith("cancel open order of trade") for a in actions)
    assert actions[-2:] == ["stop", "kill receipt"]


def test_the_callback_refuses_entries_during_a_kill_even_without_the_bridge(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    dry_run(data_dir)
    (data_dir / "EMERGENCY_STOP").touch()
    with running_freqtrade(fake, tmp_path / "ft", data_dir) as bot:
        wait_for(
            lambda: "NIJA refused the entry for BTC/USDT (KILL_SWITCH_ACTIVE)" in bot.log_text(),
            timeout=90,
            what="the entry refused by NIJA",
        )
        assert bot.open_trades() == []
        assert bot.state() == "running"  # freqtrade itself never stopped: NIJA's answer alone refused it


def test_a_freqtrade_trading_live_is_stopped_while_nija_is_dry_run(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    dry_run(data_dir)
    with running_freqtrade(fake, tmp_path / "ft", data_dir, dry_run=False) as bot:
        bridge = start_bridge(data_dir, bot)
        try:
            wait_for(lambda: bot.state() == "stopped", timeout=60, what="the bridge stopping a live freqtrade")
        finally:
            out = stop(bridge)
    assert fake.calls("AddOrder") == []  # the strategy's callback refused live entries meanwhile
    assert "freqtrade trades live (dry_run = false) but NIJA is DRY_RUN" in out
    reasons = [str(e["reason"]) for e in audit(data_dir) if e["kind"] == "bridge_action"]
    assert any("freqtrade may trade live only in a verified LIVE_ACTIVE" in r for r in reasons)


def test_a_bridge_starting_on_a_persisted_live_state_turns_it_off_and_stops_a_live_freqtrade(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    """The restart rule, as for every bot run: a LIVE_ACTIVE left on disk (a hand edit, a
    restored backup, a crashed bridge) is a restart's, never resumed: OFF, recorded; the
    live freqtrade is then stopped by the live rule."""
    dry_run(data_dir)
    path = data_dir / ".nija_trading_state.json"
    record = json.loads(path.read_text())
    record["current_state"] = "LIVE_ACTIVE"  # as a hand edit or a backup taken while live would
    path.write_text(json.dumps(record))
    with running_freqtrade(fake, tmp_path / "ft", data_dir, dry_run=False) as bot:
        bridge = start_bridge(data_dir, bot)
        try:
            wait_for(lambda: bot.state() == "stopped", timeout=60, what="the bridge stopping a live freqtrade")
        finally:
            out = stop(bridge)
    assert "LIVE_ACTIVE -> OFF: a restart never resumes live trading" in out
    assert "freqtrade trades live (dry_run = false) but NIJA is STATE_OFF" in out
    assert fake.calls("AddOrder") == []
    snapshot = service(data_dir).snapshot()
    assert (snapshot.state, snapshot.kill_active) == ("OFF", False)  # the restart rule, not an incident kill
    restart = [e for e in audit(data_dir) if e["kind"] == "transition" and "Bot restart" in str(e["reason"])]
    assert [(e["details"]["from"], e["details"]["to"], e["source"]) for e in restart] == [  # type: ignore[index]
        ("LIVE_ACTIVE", "OFF", "bridge")
    ]
    assert any(e["kind"] == "bot_started" and e["source"] == "bridge" for e in audit(data_dir))
    stops = [e["details"]["action"] for e in audit(data_dir) if e["kind"] == "bridge_action"]  # type: ignore[index]
    assert stops[-2:] == ["stopentry", "stop"]


def test_a_bridge_whose_store_cannot_take_the_restart_rule_still_stops_a_live_freqtrade(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    """The store's lock held by another process (a hung CLI, a backup tool) when the bridge
    starts on a persisted LIVE_ACTIVE: the restart rule cannot be written, yet the bridge
    keeps supervising (NIJA is not verifiably LIVE_ACTIVE for this run: the live freqtrade
    is stopped), alerts, and applies the rule once the lock is free."""
    dry_run(data_dir)
    path = data_dir / ".nija_trading_state.json"
    record = json.loads(path.read_text())
    record["current_state"] = "LIVE_ACTIVE"
    path.write_text(json.dumps(record))
    lock = os.open(data_dir / ".nija.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another open file description: excludes the bridge's process
    try:
        with running_freqtrade(fake, tmp_path / "ft", data_dir, dry_run=False) as bot:
            bridge = start_bridge(data_dir, bot)
            try:
                wait_for(
                    lambda: bridge.poll() is not None or bot.state() == "stopped",
                    timeout=90,
                    what="the bridge stopping a live freqtrade (or exiting)",
                )
                assert bridge.poll() is None  # still supervising, not exited
                assert bot.state() == "stopped"
                assert service(data_dir).snapshot().state == "LIVE_ACTIVE"  # the rule is not written yet
                fcntl.flock(lock, fcntl.LOCK_UN)
                wait_for(lambda: service(data_dir).snapshot().state == "OFF", timeout=60, what="the restart rule")
                assert bridge.poll() is None
            finally:
                out = stop(bridge)
    finally:
        os.close(lock)
    assert "freqtrade trades live (dry_run = false) but NIJA is LIVE_NOT_VERIFIED" in out
    assert "LIVE_ACTIVE -> OFF: a restart never resumes live trading" in out
    assert fake.calls("AddOrder") == []
    snapshot = service(data_dir).snapshot()
    assert (snapshot.state, snapshot.kill_active) == ("OFF", False)  # the restart rule, not an incident kill
    alerts = [e for e in audit(data_dir) if e["kind"] == "bridge_alert"]
    assert any(e["details"]["action"] == "restart_rule_not_applied" for e in alerts)  # type: ignore[index]


def test_freqtrade_trades_live_only_on_a_confirmation_its_bridge_verified(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    """The bridge is freqtrade's NIJA run: the operator confirms live for it while freqtrade
    runs in dry-run; a live freqtrade then enters at the exchange, and a kill from the CLI
    cancels its order there."""
    dry_run(data_dir)
    port = free_port()
    with running_freqtrade(fake, tmp_path / "ft-dry", data_dir, port=port) as dry:
        bridge = start_bridge(data_dir, dry)
        go_live(data_dir)  # request for the bridge's run, acknowledged, confirmed, verified
    try:
        with running_freqtrade(fake, tmp_path / "ft-live", data_dir, dry_run=False, port=port) as live:
            wait_for(lambda: len(fake.open_orders()) == 1, timeout=90, what="a live entry at the exchange")
            assert live.state() == "running"  # the bridge lets a verified live freqtrade trade
            cli(str(REPO / "emergency_kill_switch.py"), "activate", "--data-dir", str(data_dir), "operator kill")
            wait_for(lambda: fake.open_orders() == {}, timeout=60, what="the live order cancelled at the exchange")
            wait_for(lambda: live.state() == "stopped", timeout=60, what="freqtrade stopped")
            assert live.open_orders() == []
            assert fake.calls("CancelAll") == []  # its own order, by id
    finally:
        stop(bridge)


def test_a_bridge_restarted_after_a_crash_cancels_the_live_freqtrades_orders_and_stops_it(
    fake: FakeKraken, data_dir: Path, tmp_path: Path
) -> None:
    """A crashed bridge leaves LIVE_ACTIVE on disk and a live freqtrade with an order at the
    exchange. The next bridge run starts OFF; a restart is a move out of live, so the order
    is cancelled (through freqtrade, at the exchange, by id) before freqtrade is stopped."""
    dry_run(data_dir)
    port = free_port()
    with running_freqtrade(fake, tmp_path / "ft-dry", data_dir, port=port) as dry:
        crashed = start_bridge(data_dir, dry)
        go_live(data_dir)
    try:
        with running_freqtrade(fake, tmp_path / "ft-live", data_dir, dry_run=False, port=port) as live:
            wait_for(lambda: len(fake.open_orders()) == 1, timeout=90, what="a live entry at the exchange")
            crashed.kill()  # no clean stop: the state stays LIVE_ACTIVE
            crashed.communicate(timeout=60)
            assert service(data_dir).snapshot().state == "LIVE_ACTIVE"
            bridge = start_bridge(data_dir, live)
            try:
                wait_for(lambda: live.state() == "stopped", timeout=60, what="the new bridge stopping freqtrade")
                assert fake.open_orders() == {}  # the exchange's own book: the live order is gone
                assert live.open_orders() == []
            finally:
                out = stop(bridge)
    finally:
        if crashed.poll() is None:
            crashed.kill()
    assert "LIVE_ACTIVE -> OFF: a restart never resumes live trading" in out
    assert service(data_dir).snapshot().state == "OFF"
    assert len(fake.calls("CancelOrder")) == 1
    assert fake.calls("CancelAll") == []  # its own order, by id
    actions = [e["details"]["action"] for e in audit(data_dir) if e["kind"] == "bridge_action"]  # type: ignore[index]
    assert actions[-3] == "stopentry"
    assert actions[-2].startswith("cancel open order of trade")
    assert actions[-1] == "stop"


FILLING = '''

class Filling(Resting):
    """Enters at once (a limit above the market fills in freqtrade's dry-run); force exits at the market."""

    order_types = {
        "entry": "limit",
        "exit": "limit",
        "force_exit": "market",
        "stoploss": "market",
        "stoploss_on_exchange": False,
    }

    def custom_entry_price(self, pair, trade, current_time, proposed_rate, entry_tag, side, **kwargs):
        return proposed_rate * 1.002
'''


def test_a_kill_with_force_exit_leaves_freqtrade_flat(fake: FakeKraken, data_dir: Path, tmp_path: Path) -> None:
    dry_run(data_dir)
    with running_freqtrade(fake, tmp_path / "ft", data_dir, extra_strategy=FILLING) as bot:
        bridge = start_bridge(data_dir, bot, "--force-exit")
        try:
            wait_for(
                lambda: any(t["amount"] > 0 and not t["has_open_orders"] for t in bot.open_trades()),
                timeout=90,
                what="a filled dry-run trade (an open position)",
            )
            cli(str(REPO / "emergency_kill_switch.py"), "activate", "--data-dir", str(data_dir), "flatten")
            wait_for(lambda: bot.state() == "stopped", timeout=90, what="freqtrade stopped")
            assert bot.open_trades() == []  # force-exited: flat
            assert bot.open_orders() == []
        finally:
            out = stop(bridge)
    assert "forceexit all" in out
    assert "freqtrade stopped (stopped): no open orders, 0 open trade(s)" in out
