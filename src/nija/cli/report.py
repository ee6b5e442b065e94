"""``nija report [RUN]``: how a paper run did, from the paper ledger (read only)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from nija.cli.common import EXIT_CODES_HELP, handles_errors, print_json
from nija.runtime.report_file import as_json, figures, html_report, list_runs, load_run, trades_csv
from nija.store import config_dir
from nija.store.atomic import write_atomic


@click.command("report", epilog=EXIT_CODES_HELP)
@click.argument("run", required=False)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="NIJA_DATA_DIR",
    help="Directory holding the paper ledger (default: NIJA_DATA_DIR, else the current directory).",
)
@click.option("--json", "as_json_flag", is_flag=True, help="The figures, trades and equity curve as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the trades as CSV.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a self-contained HTML report with equity and drawdown charts.",
)
@click.option("--list", "list_only", is_flag=True, help="List the runs in the ledger.")
@handles_errors
def report(
    run: str | None,
    data_dir: Path | None,
    as_json_flag: bool,
    csv_path: Path | None,
    html_path: Path | None,
    list_only: bool,
) -> None:
    """A paper run's round-trip trades, win rate, drawdown, Sharpe and Sortino, exposure
    and per-symbol results. RUN is a run id from the run summary (a prefix will do);
    without it, the latest run. Formulas: docs/report.md."""
    directory = config_dir(data_dir)
    if list_only:
        runs = list_runs(directory)
        if as_json_flag:
            print_json({"runs": runs})
        for r in [] if as_json_flag else runs:
            click.echo(f"{r['run_id']}  {r['started_at']} .. {r['ended_at'] or 'not ended'}  {r['fills']} fills")
        return
    performance = load_run(directory, run)
    if csv_path is not None:
        write_atomic(csv_path, trades_csv(performance).encode())
    if html_path is not None:
        write_atomic(html_path, html_report(performance).encode())
    if as_json_flag:
        print_json(as_json(performance))
        return
    console = Console(highlight=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    for key, value in figures(performance):
        table.add_row(f"{key}:", value)
    console.print("[bold]NIJA paper run report[/] (simulated: no real money was at risk)")
    console.print(table)
    symbols = Table("symbol", "trades", "wins", "P&L", "fees", title="Per symbol")
    for s in performance.by_symbol:
        symbols.add_row(s.symbol, str(s.trades), str(s.wins), f"{s.pnl:,.2f}", f"{s.fees:,.2f}")
    console.print(symbols)
    for path, what in ((csv_path, "Trades CSV"), (html_path, "HTML report")):
        if path is not None:
            console.print(f"{what}: {path}", markup=False)
