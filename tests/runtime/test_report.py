"""``nija report`` and ``nija run --new-account``, checked against the paper ledger with
the trades, P&L and drawdown recomputed here, independently of nija's code."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import defaultdict
from pathlib import Path

from tests.conftest import Run


def run_bot(run: Run, data_dir: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = run("nija", "run", "--data-dir", str(data_dir), "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def recomputed(data_dir: Path, run_id: str, start_equity: float) -> tuple[list[float], float, float]:
    """(each round trip's P&L, the equity after the last fill, max drawdown fraction)."""
    db = sqlite3.connect(data_dir / ".nija_paper.sqlite")
    rows = db.execute(
        "SELECT symbol, side, quantity, price, fee, realized FROM fills WHERE run_id = ? ORDER BY seq", (run_id,)
    ).fetchall()
    position: dict[str, float] = defaultdict(float)
    basis: dict[str, float] = defaultdict(float)  # money paid for what is held (average cost x quantity)
    running: dict[str, float] = defaultdict(float)
    last_price: dict[str, float] = {}
    trades: list[float] = []
    booked, peak, worst = 0.0, start_equity, 0.0
    for symbol, side, qty, price, fee, realized in rows:
        last_price[symbol] = price
        running[symbol] += realized - fee
        booked += realized - fee
        if side == "buy":
            basis[symbol] += qty * price
            position[symbol] += qty
        else:
            basis[symbol] -= basis[symbol] * min(1.0, qty / position[symbol]) if position[symbol] else 0.0
            position[symbol] = max(0.0, position[symbol] - qty)
        if position[symbol] <= 1e-9:
            trades.append(running.pop(symbol))
            position.pop(symbol)
            basis.pop(symbol)
        equity = start_equity + booked + sum(position[s] * last_price[s] - basis[s] for s in position)
        peak = max(peak, equity)
        worst = max(worst, 1 - equity / peak)
    return trades, equity, worst


def test_report_matches_trades_pnl_and_drawdown_recomputed_from_the_ledger(run: Run, data_dir: Path) -> None:
    assert run("nija", "restore", "--yes", "--data-dir", str(data_dir)).returncode == 0
    summary = run_bot(run, data_dir)
    html_file, csv_file = data_dir.parent / "report.html", data_dir.parent / "trades.csv"
    result = run(
        "nija", "report", summary["run_id"][:6], "--data-dir", str(data_dir), "--json",
        "--html", str(html_file), "--csv", str(csv_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    trades, last_equity, drawdown = recomputed(data_dir, summary["run_id"], summary["start_equity"])

    assert report["run_id"] == summary["run_id"]
    assert len(trades) > 5  # the sample trades enough for the figures to mean something
    assert [round(t["pnl"], 6) for t in report["trades"]] == [round(p, 6) for p in trades]
    wins = [p for p in trades if p > 0]
    assert abs(report["win_rate"] - len(wins) / len(trades)) < 1e-12
    losses = [p for p in trades if p <= 0]
    assert abs(report["profit_factor"] - sum(wins) / -sum(losses)) < 1e-9
    assert abs(report["equity"][-1]["equity"] - last_equity) < 1e-6
    assert abs(report["max_drawdown"] - drawdown) < 1e-9
    assert abs(report["end_equity"] - summary["end_equity"]) < 1e-6
    assert abs(report["total_return"] - (summary["end_equity"] / summary["start_equity"] - 1)) < 1e-12
    assert sum(s["trades"] for s in report["by_symbol"]) == len(trades)
    # the exports
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert len(rows) == len(trades)
    page = html_file.read_text()
    assert page.count("<svg") == 2  # equity and drawdown, inline
    assert 'id="equity"' in page
    assert 'id="drawdown"' in page
    assert "src=" not in page  # self-contained: nothing loaded from elsewhere


def test_an_unknown_run_is_a_usage_error_and_no_ledger_is_a_storage_error(run: Run, data_dir: Path) -> None:
    none = run("nija", "report", "--data-dir", str(data_dir))
    assert none.returncode == 4
    assert "No paper ledger" in none.stderr
    assert run("nija", "restore", "--yes", "--data-dir", str(data_dir)).returncode == 0
    run_bot(run, data_dir, "--max-candles", "100")
    unknown = run("nija", "report", "zzzz", "--data-dir", str(data_dir))
    assert unknown.returncode == 2
    assert "No run 'zzzz'" in unknown.stderr
    assert "nija report --list" in unknown.stderr


def test_new_account_starts_from_starting_cash_and_the_default_continues(run: Run, data_dir: Path) -> None:
    assert run("nija", "restore", "--yes", "--data-dir", str(data_dir)).returncode == 0
    first = run_bot(run, data_dir)
    assert first["account"] == "continued"
    assert first["end_equity"] != 10_000.0  # it traded
    continued = run_bot(run, data_dir, "--max-candles", "10")
    assert continued["account"] == "continued"
    assert abs(continued["start_equity"] - first["end_equity"]) < 1e-6
    fresh = run_bot(run, data_dir, "--new-account", "--max-candles", "10")
    assert fresh["account"] == "new"
    assert fresh["start_equity"] == 10_000.0
    db = sqlite3.connect(data_dir / ".nija_paper.sqlite")
    (earlier,) = db.execute("SELECT COUNT(*) FROM fills WHERE run_id = ?", (first["run_id"],)).fetchone()
    assert earlier == first["fills"]  # the earlier runs stay in the ledger for their reports
    text = run("nija", "run", "--data-dir", str(data_dir), "--max-candles", "5")
    assert "continued from the previous run" in text.stdout
