"""``nija report``'s inputs and outputs: a run's fills read from the paper ledger (read
only), and the analysis as JSON, CSV of trades and a self-contained HTML page.

The HTML's charts are SVG drawn by pygal in Python: no JavaScript, no build step, no
network (its optional tooltip script is left out), so the file opens anywhere, offline."""

from __future__ import annotations

import csv
import html
import io
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nija.domain.errors import StorageUnavailable, UsageProblem
from nija.runtime.brokers.ledger import LEDGER_FILE
from nija.runtime.performance import FillRow, Performance, analyse


def load_run(data_dir: Path, run: str | None) -> Performance:
    """``run``: a run id (or a unique prefix of one); None: the latest run."""
    path = data_dir / LEDGER_FILE
    if not path.is_file():
        raise StorageUnavailable(
            f"No paper ledger in {data_dir}: no run to report on", "Run the bot first: nija run --data-dir DIR"
        )
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StorageUnavailable(f"Cannot read the paper ledger {path}: {exc}", "Check its permissions") from exc
    try:
        rows = db.execute(
            "SELECT run_id, started_at, start_equity, ended_at, end_equity FROM runs ORDER BY started_at"
        ).fetchall()
        if run is not None:
            rows = [r for r in rows if str(r[0]).startswith(run)]
        if not rows:
            raise UsageProblem(
                f"No run {run!r} in {path}" if run else f"No run recorded in {path}",
                "List the runs with: nija report --list",
            )
        if run is not None and len(rows) > 1:
            raise UsageProblem(f"{run!r} matches {len(rows)} runs", "Give more characters of the run id")
        run_id, started_at, start_equity, ended_at, end_equity = rows[-1]
        fills = [
            FillRow(*row)
            for row in db.execute(
                "SELECT symbol, side, quantity, price, fee, realized, timestamp FROM fills"
                " WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
    except sqlite3.Error as exc:
        raise StorageUnavailable(f"Cannot read the paper ledger {path}: {exc}", "Check the file") from exc
    finally:
        db.close()
    return analyse(
        str(run_id), fills, started_at=started_at, ended_at=ended_at, start_equity=start_equity, end_equity=end_equity
    )


def list_runs(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / LEDGER_FILE
    if not path.is_file():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [
            {"run_id": r, "started_at": _iso(s), "ended_at": _iso(e) if e else None, "fills": n}
            for r, s, e, n in db.execute(
                "SELECT r.run_id, r.started_at, r.ended_at, COUNT(f.seq) FROM runs r "
                "LEFT JOIN fills f ON f.run_id = r.run_id GROUP BY r.run_id ORDER BY r.started_at"
            )
        ]
    finally:
        db.close()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def as_json(p: Performance) -> dict[str, Any]:
    data = asdict(p)
    data["started_at"] = _iso(p.started_at)
    data["ended_at"] = _iso(p.ended_at) if p.ended_at else None
    data["trades"] = [{**asdict(t), "opened_at": _iso(t.opened_at), "closed_at": _iso(t.closed_at)} for t in p.trades]
    data["equity"] = [{"at": _iso(t), "equity": v} for t, v in p.equity]
    return data


def trades_csv(p: Performance) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["symbol", "opened_at", "closed_at", "fills", "bought", "pnl"])
    for t in p.trades:
        writer.writerow([t.symbol, _iso(t.opened_at), _iso(t.closed_at), t.fills, f"{t.bought:.10g}", f"{t.pnl:.8f}"])
    return out.getvalue()


def figures(p: Performance) -> list[tuple[str, str]]:
    """The headline figures, in the order every output shows them."""

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x * 100:.2f}%"

    def num(x: float | None, digits: int = 2) -> str:
        return "n/a" if x is None else f"{x:,.{digits}f}"

    return [
        ("Run", p.run_id),
        ("Period", f"{_iso(p.started_at)} .. {_iso(p.ended_at) if p.ended_at else 'not ended'}"),
        ("Equity", f"{p.start_equity:,.2f} -> {p.end_equity:,.2f}"),
        ("Return", pct(p.total_return)),
        ("Round-trip trades", f"{len(p.trades)} (from {p.fills} fills)"),
        ("Win rate", pct(p.win_rate)),
        ("Average win / loss", f"{num(p.average_win)} / {num(p.average_loss)}"),
        ("Profit factor", num(p.profit_factor)),
        ("Max drawdown", f"{pct(p.max_drawdown)} ({p.max_drawdown_amount:,.2f})"),
        ("Sharpe / Sortino (per fill)", f"{num(p.sharpe, 3)} / {num(p.sortino, 3)}"),
        ("Exposure", pct(p.exposure)),
        ("Fees", f"{p.fees:,.2f}"),
    ]


def html_report(p: Performance) -> str:
    import pygal  # type: ignore[import-untyped]  # imported here: only the HTML report draws charts

    style = pygal.style.Style(background="white", plot_background="white", colors=("#1f6feb", "#d1242f"))
    charts = []
    for title, points in (("Equity", p.equity), ("Drawdown (fraction of peak)", p.drawdown_curve())):
        chart = pygal.XY(
            title=title,
            style=style,
            show_legend=False,
            dots_size=1,
            height=300,
            width=900,
            js=[],  # no script from a CDN: the file is self-contained
            disable_xml_declaration=True,
            x_value_formatter=lambda t: datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M"),
            fill=title.startswith("Drawdown"),
        )
        chart.add(title, list(points))
        name = "equity" if title == "Equity" else "drawdown"
        charts.append(f'<figure class="chart" id="{name}">{chart.render(is_unicode=True)}</figure>')
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in figures(p))
    symbols = "".join(
        f"<tr><td>{html.escape(s.symbol)}</td><td>{s.trades}</td><td>{s.wins}</td>"
        f"<td>{s.pnl:,.2f}</td><td>{s.fees:,.2f}</td></tr>"
        for s in p.by_symbol
    )
    trades = "".join(
        f"<tr><td>{html.escape(t.symbol)}</td><td>{_iso(t.opened_at)}</td><td>{_iso(t.closed_at)}</td>"
        f"<td>{t.fills}</td><td>{t.pnl:,.2f}</td></tr>"
        for t in p.trades
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NIJA run {html.escape(p.run_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:1em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}th,td{{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}}
.chart svg{{max-width:100%;height:auto}}</style></head><body>
<h1>NIJA paper run {html.escape(p.run_id)}</h1>
<p>Simulated (DRY_RUN) results from the paper ledger: no real money was at risk.</p>
<table id="figures">{rows}</table>
{"".join(charts)}
<h2>Per symbol</h2><table id="symbols">
<tr><th>symbol</th><th>trades</th><th>wins</th><th>P&amp;L</th><th>fees</th></tr>{symbols}</table>
<h2>Trades</h2><table id="trades">
<tr><th>symbol</th><th>opened</th><th>closed</th><th>fills</th><th>P&amp;L</th></tr>{trades}</table>
</body></html>
"""
