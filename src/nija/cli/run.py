"""``nija run``: the bot itself, on the data directory's state.

DRY_RUN routes orders to the paper broker, LIVE_ACTIVE to the exchange; every other
state places no orders while the bot keeps watching and reporting. The run never
changes the state beyond the restart rule (and automatic kills)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from nija.assembly import wire
from nija.cli.common import EXIT_CODES_HELP, common_options, current_selection, handles_errors
from nija.cli.rich_console import SafeConsole
from nija.cli.signals import stop_on_signals
from nija.config import load_config
from nija.domain.codes import ErrorCode
from nija.domain.errors import NijaError, StorageUnavailable, UsageProblem
from nija.identity import local_who
from nija.observability.metrics import Metrics
from nija.runtime.candles import Candle
from nija.runtime.engine import Bot
from nija.runtime.feeds import ccxt_candles, replay_candles
from nija.runtime.run_claim import hold_run_claim
from nija.runtime.summary import Summary
from nija.store import config_dir

RUN_EXIT_HELP = EXIT_CODES_HELP + " 'nija run' exits 1 when a kill left orders open (see the alerts)."


class IncompleteKill(NijaError):
    code = ErrorCode.KILL_INCOMPLETE


@click.command("run", epilog=RUN_EXIT_HELP)
@common_options(mutating=False)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (default: nija.toml in the data directory, else built-in defaults).",
)
@click.option(
    "--feed",
    "feed_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Replay this CSV of candles instead of the configured feed.",
)
@click.option("--max-candles", type=click.IntRange(min=1), help="Stop after this many candles.")
@click.option(
    "--pace",
    type=click.FloatRange(min=0, max=60),
    help="Seconds to wait between replayed candles (default: feed.pace_s, 0 = as fast as possible).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics while running (0: any free port).",
)
@click.option(
    "--new-account",
    is_flag=True,
    help="Start a fresh paper account (starting cash, no positions, open paper orders cancelled). "
    "Default: continue the previous run's account.",
)
@handles_errors
def run(
    data_dir: Path | None,
    config_path: Path | None,
    feed_path: Path | None,
    max_candles: int | None,
    pace: float | None,
    metrics_port: int | None,
    new_account: bool,
    as_json: bool,
) -> None:
    """Run the trading bot: every order is decided by the state and the kill switch."""
    directory = config_dir(data_dir)  # nija.toml, the paper ledger and the report live here
    config = load_config(directory, config_path)
    wired = wire(data_dir, config=config, selection=current_selection(), bot_run=True)
    service = wired.service
    service.store.load()  # a missing data directory (or database) is refused here, before anything starts
    if not directory.is_dir():
        raise StorageUnavailable(
            f"The data directory {directory} does not exist", "Create it: it holds nija.toml and the paper ledger"
        )
    took_over = hold_run_claim(
        directory, bot=current_selection().bot, heartbeat=service.store.load().heartbeat, now=service.clock()
    )
    if took_over:
        click.echo(f"⚠️ {took_over}", err=True)
    if metrics_port is not None:
        _serve_metrics(wired.metrics, metrics_port)
    from nija.runtime.live import build_live_broker  # ccxt is slow to import: only here

    live = build_live_broker(config, directory)
    candles: Iterable[Candle]
    total: int | None
    if config.feed.kind == "ccxt" and feed_path is None:
        total, label = None, f"live prices from {config.exchange.id}"
        bot = Bot(
            service,
            config,
            directory,
            actor=_actor(),
            live_broker=live,
            feed_label=label,
            feed_clock=time.time,
            new_account=new_account,
        )
        candles = ccxt_candles(
            config.feed,
            config.exchange,
            stop=bot.stop_event.is_set,
            on_error=lambda message: bot.alert("FEED_ERROR", message),
        )
    else:
        replay, label = replay_candles(config.feed, feed_path)
        total = min(len(replay), max_candles) if max_candles else len(replay)
        candles = replay
        bot = Bot(
            service, config, directory, actor=_actor(), live_broker=live, feed_label=label, new_account=new_account
        )
    stop_on_signals(bot.stop_event)
    console = SafeConsole(stderr=False)  # the summary quotes kill reasons and alerts
    pace_s = config.feed.pace_s if pace is None else pace
    if sys.stdout.isatty() and not as_json:
        with Progress(
            TextColumn("[bold]nija run[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("candles", total=total, status="")
            summary = bot.run(_tracked(candles, progress, task, bot), pace_s=pace_s, max_candles=max_candles)
    else:
        summary = bot.run(candles, pace_s=pace_s, max_candles=max_candles)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        render_summary(console, summary)
    if not summary.kill_complete:
        raise IncompleteKill(
            "The kill left orders open at the broker (see the alerts above)",
            "Check the exchange and cancel them by hand; then investigate the cancel failures",
        )
    if summary.kill_receipt_missed:
        raise IncompleteKill(
            f"The broker did not confirm the kill within the deadline: {summary.kill_receipt}",
            "Check the exchange for open orders and positions now; see the kill receipt in 'status'",
            code=ErrorCode.KILL_NOT_CONFIRMED,
        )


def _tracked(candles: Iterable[Candle], progress: Progress, task: object, bot: Bot) -> Iterator[Candle]:
    from rich.progress import TaskID

    assert isinstance(task, int)
    for count, candle in enumerate(candles, 1):
        yield candle
        if count % 250 == 0:
            mode = bot.reaction.mode or "no orders"
            progress.update(
                TaskID(task), completed=count, status=f"{mode} · orders {bot.gate.placed} · fills {bot.counters.fills}"
            )


def render_summary(console: Console, s: Summary) -> None:
    console.print(
        Text.assemble(("NIJA run summary", "bold"), f"  ({s.state_at_start} at start, {s.state_at_end} at the end)")
    )
    console.print(Text(f"Run {s.run_id} (report: nija report {s.run_id})"))
    table = Table(show_header=False, box=None, pad_edge=False)
    c = s.currency
    for key, value in (
        ("Paper account", "NEW (--new-account)" if s.account == "new" else "continued from the previous run"),
        ("Feed", s.feed),
        ("Broker", s.broker),
        ("Candles", f"{s.candles:,}"),
        ("Orders placed", f"{s.orders_placed:,} ({s.cancelled} cancelled, {s.rejected} rejected)"),
        ("Fills", f"{s.fills:,}"),
        ("Fees", f"{s.fees:,.2f} {c}"),
        ("Realized P&L", f"{s.realized_pnl:,.2f} {c} (before fees)"),
        ("Unrealized P&L", f"{s.unrealized_pnl:,.2f} {c}"),
        ("Net P&L", f"{s.net_pnl:,.2f} {c} (equity {s.start_equity:,.2f} -> {s.end_equity:,.2f})"),
        ("Denials", ", ".join(f"{k}: {v:,}" for k, v in s.denials.items()) or "none"),
        ("Controls", _controls_line(s)),
        ("Stopped by", s.stopped_by),
    ):
        table.add_row(f"{key}:", Text(value))
    console.print(table)
    if s.kill:
        state = "complete" if s.kill_complete else "NOT COMPLETE: orders are still open"
        console.print(
            f"🛑 Kill switch active during the run ({s.kill}); cancelling orders: {state}",
            style="bold red",
            markup=False,
        )
    for outage in s.outages:
        end = outage["end"] or "still unreachable at the end"
        took = f", {outage['duration_s']} s" if outage["duration_s"] is not None else ""
        cancelled = (
            f"; {outage['orders_cancelled']} open order(s) cancelled at {outage['orders_cancelled_at']}"
            if outage["orders_cancelled_at"]
            else ""
        )
        console.print(
            f"⚠️  Fleet database outage: {outage['start']} -> {end}{took}; "
            f"{outage['orders_denied']} order(s) denied meanwhile{cancelled}",
            style="bold yellow",
            markup=False,
            highlight=False,
        )
    if s.kill_receipt:
        style = "bold red" if s.kill_receipt_missed else "green"
        console.print(f"Kill receipt: {s.kill_receipt}", style=style, markup=False)
    if s.foreign_orders:
        console.print(f"ℹ️  {s.foreign_orders} open order(s) on the account were not placed by this bot: left alone")
    if s.auto_kill:
        console.print(f"🛑 Automatic kill: {s.auto_kill}", style="bold red", markup=False)
    for alert in s.alerts:
        if alert.startswith(("CANCEL_FAILED", "KILL_INCOMPLETE", "FLATTEN_FAILED", "KILL_NOT_CONFIRMED")):
            console.print(f"⚠️  {alert}", style="bold red", markup=False)
    quality = [a for a in s.alerts if a.startswith("DATA_QUALITY")]
    if quality:  # bad ticks can come in storms: the first one and how many
        more = f" (and {len(quality) - 1} more data-quality alerts)" if len(quality) > 1 else ""
        console.print(f"⚠️  {quality[0]}{more}", style="bold yellow", markup=False, highlight=False)  # feed text
    for note in s.notes:
        console.print(f"💡 {note}", markup=False)


def _controls_line(s: Summary) -> str:
    f = s.controls
    if not f:
        return "none"
    return (
        f"{f.get('daily_orders', 0):,} orders, {float(f.get('daily_notional', 0)):,.2f} {s.currency} on "
        f"{f.get('day', '?')} (UTC); runaway window: {f.get('throttle_denials_in_window', 0)} throttle denials; "
        f"ratio window: {f.get('orders_in_ratio_window', 0)} orders, {f.get('fills_in_ratio_window', 0)} fills"
    )


def _actor() -> str:
    return local_who("bot").actor


__all__ = ["UsageProblem", "render_summary", "run"]


def _serve_metrics(metrics: Metrics, port: int) -> None:
    """Loopback only, like ``nija serve``: the metrics reveal the bot's safety state."""
    from nija.observability.metrics import start_metrics_server

    try:
        server, _ = start_metrics_server(port, metrics)
    except OSError as exc:
        raise UsageProblem(
            f"Cannot serve metrics on 127.0.0.1:{port}: {exc.strerror}", "Choose a free port with --metrics-port"
        ) from exc
    click.echo(f"Metrics on http://127.0.0.1:{server.server_port}/metrics", err=True)
