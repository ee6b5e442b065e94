"""``nija run`` end to end, in real processes, on real files."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from nija.assembly import build_service
from nija.bot_report import read_report
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.transitions import Who
from nija.runtime.feeds import read_csv, sample_path
from nija.service import SafetyService, system_clock
from nija.testing import HeartbeatBot
from tests.conftest import Run, cli_env
from tests.runtime.runtime_helpers import wait_for

OPERATOR = Who("alice@host", "cli")


def summary_of(result: object) -> dict[str, Any]:
    stdout = getattr(result, "stdout")  # noqa: B009 - CompletedProcess
    return json.loads(stdout)  # type: ignore[no-any-return]


def feed_failed(data_dir: Path) -> bool:
    report = read_report(data_dir)
    return report is not None and any(a.code == "FEED_ERROR" for a in report.alerts)


def ledger(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / ".nija_paper.sqlite")


def test_dry_run_session_on_the_shipped_sample_matches_the_ledger(run: Run, data_dir: Path) -> None:
    assert run("nija", "restore", "--yes", "--data-dir", str(data_dir)).returncode == 0
    result = run("nija", "run", "--data-dir", str(data_dir), "--json")
    assert result.returncode == 0, result.stderr
    s = summary_of(result)
    assert s["state_at_start"] == s["state_at_end"] == "DRY_RUN"
    assert s["candles"] == len(read_csv(sample_path()))
    db = ledger(data_dir)
    run_id = s["run_id"]
    (orders,) = db.execute("SELECT COUNT(*) FROM orders WHERE run_id = ?", (run_id,)).fetchone()
    fills, fees, realized = db.execute(
        "SELECT COUNT(*), SUM(fee), SUM(realized) FROM fills WHERE run_id = ?", (run_id,)
    ).fetchone()
    assert orders > 0
    assert fills > 0
    assert s["orders_placed"] == orders
    assert s["fills"] == fills
    assert abs(s["fees"] - fees) < 1e-6
    assert abs(s["realized_pnl"] - realized) < 1e-6
    # End equity is the ledger's cash plus its holdings at the sample's last closes.
    (cash,) = db.execute("SELECT cash FROM account").fetchone()
    last = {c.symbol: c.close for c in read_csv(sample_path())}
    holdings = sum(q * last[sym] for sym, q in db.execute("SELECT symbol, quantity FROM positions"))
    assert abs(s["end_equity"] - (cash + holdings)) < 1e-6
    assert abs(s["net_pnl"] - (cash + holdings - 10_000.0)) < 1e-6
    (open_orders,) = db.execute("SELECT COUNT(*) FROM orders WHERE status = 'open'").fetchone()
    assert s["cancelled"] + s["fills"] + open_orders + s["rejected"] == orders
    # The control centers' report and the heartbeat say the bot stopped cleanly.
    report = read_report(data_dir)
    assert report is not None
    assert report.fills == fills
    assert report.mode == "simulated"
    status = json.loads(run("nija", "status", "--json", "--data-dir", str(data_dir)).stdout)
    assert status["bot"]["alive"] is False
    assert status["bot"]["last_heartbeat"] is not None


def test_human_summary_names_orders_fills_fees_pnl_and_denials(run: Run, data_dir: Path) -> None:
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    result = run("nija", "run", "--data-dir", str(data_dir), "--max-candles", "1500")
    assert result.returncode == 0, result.stderr
    for label in ("Orders placed:", "Fills:", "Fees:", "Realized P&L:", "Net P&L:", "Denials:", "--max-candles 1500"):
        assert label in result.stdout


def test_a_second_run_continues_the_same_paper_account(run: Run, data_dir: Path) -> None:
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    first = summary_of(run("nija", "run", "--data-dir", str(data_dir), "--json", "--max-candles", "3000"))
    second = summary_of(run("nija", "run", "--data-dir", str(data_dir), "--json", "--max-candles", "10"))
    assert second["start_equity"] != 10_000.0 or first["fills"] == 0
    (runs,) = ledger(data_dir).execute("SELECT COUNT(*) FROM runs").fetchone()
    assert runs == 2


def test_in_off_no_order_is_placed_and_the_summary_says_how_to_enter_dry_run(run: Run, data_dir: Path) -> None:
    result = run("nija", "run", "--data-dir", str(data_dir), "--json")
    assert result.returncode == 0, result.stderr
    s = summary_of(result)
    assert s["orders_placed"] == 0
    assert s["denials"]["STATE_OFF"] > 0
    assert any("python safe_restore_trading.py restore --data-dir" in note for note in s["notes"])
    assert ledger(data_dir).execute("SELECT COUNT(*) FROM orders").fetchone() == (0,)
    assert s["state_at_end"] == "OFF"  # the run never changes the state by itself


def test_in_emergency_stop_no_order_is_placed(run: Run, data_dir: Path) -> None:
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    run("emergency_kill_switch.py", "activate", "test", "--data-dir", str(data_dir))
    s = summary_of(run("nija", "run", "--data-dir", str(data_dir), "--json"))
    assert s["orders_placed"] == 0
    assert set(s["denials"]) == {"KILL_SWITCH_ACTIVE"}


def test_a_persisted_live_state_becomes_off_at_start(run: Run, data_dir: Path) -> None:
    service = SafetyService(build_service(data_dir).store, policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(OPERATOR)
    previous_run = HeartbeatBot(service.store, system_clock)
    request = service.request_live(OPERATOR, credentials_configured=True)
    previous_run.step()
    service.confirm_live(request.code, ACKNOWLEDGMENT_PHRASE, Who("bob@host", "api"))
    assert previous_run.step().allowed  # live for the run it was confirmed for ...
    previous_run.stop()
    s = summary_of(run("nija", "run", "--data-dir", str(data_dir), "--json", "--max-candles", "100"))
    assert s["state_at_start"] == "OFF"  # ... and never for a new one, which says why
    assert any("bound to the bot run it was given to" in note for note in s["notes"])
    assert s["orders_placed"] == 0
    last = build_service(data_dir).history()[0][-1]
    assert (last.from_state, last.to_state, last.source) == ("LIVE_ACTIVE", "OFF", "bot")


def test_an_unknown_config_key_is_refused_by_name(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[risk]\nmax_loss = 5\n")
    result = run("nija", "run", "--data-dir", str(data_dir))
    assert result.returncode == 2
    assert "risk.max_loss" in result.stderr


def test_a_bad_config_value_is_refused_by_name(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[strategy]\nfast = 50\nslow = 20\n")
    result = run("nija", "run", "--data-dir", str(data_dir))
    assert result.returncode == 2
    assert "strategy.fast (50) must be smaller than strategy.slow (20)" in result.stderr


def test_a_missing_data_directory_is_a_storage_error(run: Run, tmp_path: Path) -> None:
    result = run("nija", "run", "--data-dir", str(tmp_path / "nope"))
    assert result.returncode == 4
    assert "does not exist" in result.stderr


def test_a_bad_candle_line_is_refused_with_its_number(run: Run, data_dir: Path, tmp_path: Path) -> None:
    feed = tmp_path / "candles.csv"
    feed.write_text("timestamp,symbol,open,high,low,close,volume\n1,BTC/USDT,1,2,0.5,1.5,3\n2,BTC/USDT,1,2\n")
    result = run("nija", "run", "--data-dir", str(data_dir), "--feed", str(feed))
    assert result.returncode == 2
    assert "line 3" in result.stderr


def crash_feed(path: Path) -> Path:
    """Ten rising candles (the crossover buys), then a steady fall."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    prices = [100 + i for i in range(10)] + [109 - 4 * i for i in range(1, 20)]
    for i, price in enumerate(prices):
        rows.append(f"{1_767_225_600 + 60 * i},BTC/USDT,{price},{price + 0.5},{price - 0.5},{price},1")
    path.write_text("\n".join(rows) + "\n")
    return path


CRASH_CONFIG = (
    "[strategy]\nfast = 2\nslow = 4\nmin_spread_pct = 0\norder_type = 'market'\nposition_pct = 90\n"
    "[risk]\ndaily_loss_limit = {limit}\nmax_drawdown_pct = 99\n"
    "max_order_notional = 100000\nmax_position_notional = 100000\n"
)


def test_daily_loss_limit_activates_the_kill_switch_with_its_figures(run: Run, data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "nija.toml").write_text(CRASH_CONFIG.format(limit=250))
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    feed = str(crash_feed(tmp_path / "c.csv"))
    s = summary_of(run("nija", "run", "--data-dir", str(data_dir), "--json", "--feed", feed))
    assert s["state_at_end"] == "EMERGENCY_STOP"
    assert "daily loss" in s["auto_kill"]
    kills = build_service(data_dir).history()[1]
    assert kills[-1].source == "AUTO_DAILY_LOSS"
    assert "reached the limit 250.00" in kills[-1].reason


def test_the_same_loss_below_the_limit_does_not_kill(run: Run, data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "nija.toml").write_text(CRASH_CONFIG.format(limit=300))  # this run loses 289.00
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    feed = str(crash_feed(tmp_path / "c.csv"))
    s = summary_of(run("nija", "run", "--data-dir", str(data_dir), "--json", "--feed", feed))
    assert -300 < s["net_pnl"] < -250
    assert s["auto_kill"] is None
    assert s["state_at_end"] == "DRY_RUN"


def test_live_prices_without_network_are_reported_and_sigterm_stops_cleanly(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(
        '[feed]\nkind = "ccxt"\nsymbols = ["BTC/USDT"]\npoll_s = 0.2\n[exchange]\ntimeout_ms = 500\n'
    )
    bot = subprocess.Popen(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(data_dir), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    # Until the feed has failed once (no network) or for a while (network: candles arrive).
    with contextlib.suppress(AssertionError):
        wait_for(lambda: feed_failed(data_dir), what="the feed's first failure")
    bot.send_signal(signal.SIGTERM)
    out, err = bot.communicate(timeout=30)
    assert bot.returncode == 0, err
    s = json.loads(out)
    assert s["stopped_by"] == "stop requested"
    assert s["orders_placed"] == 0  # OFF
    # No network here: the feed's failures are alerts, not a crash (with network: candles).
    assert s["candles"] > 0 or any(a.startswith("FEED_ERROR") for a in s["alerts"])
