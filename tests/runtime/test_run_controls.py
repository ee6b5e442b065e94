"""The pre-trade controls in real ``nija run`` processes, on real files."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

from nija.assembly import build_service
from tests.conftest import Run


def run_json(run: Run, data_dir: Path, *args: str) -> dict[str, object]:
    result = run("nija", "run", "--data-dir", str(data_dir), "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_strategy_stuck_on_a_daily_cap_is_stopped_by_the_breaker_with_its_figures(run: Run, data_dir: Path) -> None:
    """The built-in strategy retries its entry every candle: with a cap of 5 orders a day
    it hammers the cap, and the breaker turns that into a latched kill."""
    (data_dir / "nija.toml").write_text(
        "[risk]\nmax_daily_orders = 5\nrunaway_max_denials = 20\nrunaway_window_s = 3600.0\n"
    )
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    s = run_json(run, data_dir)
    assert s["orders_placed"] == 5
    assert s["denials"]["RISK_DAILY_ORDERS"] == 21  # type: ignore[index]
    assert "the throttles denied 21 orders in 3600 s, more than runaway_max_denials 20" in str(s["auto_kill"])
    assert s["state_at_end"] == "EMERGENCY_STOP"
    assert s["kill_complete"] is True
    controls = s["controls"]
    assert isinstance(controls, dict)
    assert controls["daily_orders"] == 5
    assert controls["throttle_denials_in_window"] == 21
    kill = build_service(data_dir).history()[1][-1]
    assert kill.source == "AUTO_RUNAWAY_ORDERS"
    assert "(last: RISK_DAILY_ORDERS)" in kill.reason
    report = json.loads((data_dir / ".nija_runtime.json").read_text())
    assert report["denial_counts"]["RISK_DAILY_ORDERS"] == 21
    assert report["controls"]["throttle_denials_in_window"] == 21


def test_the_human_summary_shows_the_control_figures_and_the_runaway_kill(run: Run, tmp_path: Path) -> None:
    data_dir = tmp_path / "human"
    data_dir.mkdir()
    (data_dir / "nija.toml").write_text(
        "[risk]\nmax_daily_orders = 5\nrunaway_max_denials = 20\nrunaway_window_s = 3600.0\n"
    )
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    result = run("nija", "run", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())  # rich wraps long lines
    assert "RISK_DAILY_ORDERS: 21" in out
    assert "Controls: 5 orders" in out
    assert "runaway window: 21 throttle denials" in out
    assert "Automatic kill: runaway orders: the throttles denied 21 orders" in out


def test_a_bad_tick_in_a_replay_is_dropped_and_alerted_and_the_paper_account_stays_sound(
    run: Run, data_dir: Path, tmp_path: Path
) -> None:
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for i in range(120):
        price = 100 + i if i < 60 else 160 - (i - 60)
        rows.append(f"{1_767_225_600 + 60 * i},BTC/USDT,{price},{price + 0.5},{price - 0.5},{price},1")
    rows.insert(70, f"{1_767_225_600 + 60 * 68 + 30},BTC/USDT,inf,inf,inf,inf,1")  # parses; it is no price
    feed = tmp_path / "ticks.csv"
    feed.write_text("\n".join(rows) + "\n")
    (data_dir / "nija.toml").write_text("[strategy]\nfast = 2\nslow = 4\nmin_spread_pct = 0\norder_type = 'market'\n")
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    s = run_json(run, data_dir, "--feed", str(feed))
    alerts = [a for a in s["alerts"] if str(a).startswith("DATA_QUALITY")]  # type: ignore[attr-defined]
    assert alerts
    assert "bad tick BTC/USDT" in alerts[0]
    assert math.isfinite(float(s["end_equity"]))  # type: ignore[arg-type]
    (cash,) = sqlite3.connect(data_dir / ".nija_paper.sqlite").execute("SELECT cash FROM account").fetchone()
    assert math.isfinite(cash)
    prices = [p for (p,) in sqlite3.connect(data_dir / ".nija_paper.sqlite").execute("SELECT price FROM fills")]
    assert prices
    assert all(math.isfinite(p) and p > 0 for p in prices)


def test_the_human_summary_shows_a_bad_tick(run: Run, data_dir: Path, tmp_path: Path) -> None:
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    rows += [f"{1_767_225_600 + 60 * i},BTC/USDT,100,100.5,99.5,100,1" for i in range(5)]
    rows.append("1767226000,BTC/USDT,inf,inf,inf,inf,1")
    feed = tmp_path / "ticks.csv"
    feed.write_text("\n".join(rows) + "\n")
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    result = run("nija", "run", "--data-dir", str(data_dir), "--feed", str(feed))
    assert result.returncode == 0, result.stderr
    assert "DATA_QUALITY: bad tick BTC/USDT" in " ".join(result.stdout.split())
