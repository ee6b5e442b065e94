"""``nija bridge freqtrade``: keep a freqtrade bot under NIJA's kill switch and live rule.

Credentials for freqtrade's REST API come from the environment (FREQTRADE_USERNAME,
FREQTRADE_PASSWORD), never from the command line (where ``ps`` shows them)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import click

from nija.cli.common import EXIT_CODES_HELP, common_options, current_selection, handles_errors
from nija.cli.signals import stop_on_signals
from nija.domain.errors import NijaError, UsageProblem
from nija.identity import local_who
from nija.store import config_dir

if TYPE_CHECKING:
    from nija.guarded.run import GuardRun
    from nija.integrations.freqtrade.bridge import FreqtradeBridge

BRIDGE_EXIT_HELP = EXIT_CODES_HELP + " --once exits 1 when a kill could not be confirmed at freqtrade."


class KillNotConfirmed(NijaError):
    code = "KILL_NOT_CONFIRMED"


@click.group("bridge", help="Put bots NIJA does not run under its kill switch.")
def bridge_group() -> None:
    pass


@bridge_group.command("freqtrade", epilog=BRIDGE_EXIT_HELP)
@common_options(mutating=False)
@click.option("--url", required=True, help="freqtrade's REST API, e.g. http://127.0.0.1:8080 (api_server).")
@click.option(
    "--force-exit/--no-force-exit",
    default=False,
    help="On a kill, also force-exit every open trade at the market (default: no; open trades stay, exits allowed).",
)
@click.option(
    "--cancel-open-orders/--keep-open-orders", default=True, help="On a kill, cancel open orders (default: yes)."
)
@click.option("--stop/--no-stop", "stop_on_kill", default=True, help="On a kill, /stop freqtrade once nothing is open.")
@click.option(
    "--confirm-timeout",
    type=click.FloatRange(min=1, max=600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for freqtrade to report no open orders before alerting.",
)
@click.option("--once", is_flag=True, help="Apply NIJA's current state once, print the result and exit.")
@handles_errors
def freqtrade(
    data_dir: Path | None,
    url: str,
    force_exit: bool,
    cancel_open_orders: bool,
    stop_on_kill: bool,
    confirm_timeout: float,
    once: bool,
    as_json: bool,
) -> None:
    """Follow NIJA's state: on a kill stop freqtrade's entries, cancel its open orders (and
    force-exit if asked), confirm through its API that nothing is open, then stop it. A
    freqtrade trading live (dry_run = false) is stopped unless NIJA is LIVE_ACTIVE."""
    from nija.assembly import build_service
    from nija.config import load_config
    from nija.guarded.account import AccountChecks
    from nija.guarded.run import GuardRun
    from nija.integrations.freqtrade.account import NO_DEAD_MAN, FreqtradeAccountWatch
    from nija.integrations.freqtrade.bridge import BridgeOptions, FreqtradeBridge
    from nija.integrations.freqtrade.client import FreqtradeClient
    from nija.runtime.run_claim import hold_run_claim
    from nija.runtime.watcher import StateWatcher

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageProblem(f"--url must be an http(s) URL, not {url!r}", "Pass e.g. --url http://127.0.0.1:8080")
    username, password = os.environ.get("FREQTRADE_USERNAME"), os.environ.get("FREQTRADE_PASSWORD")
    if not username or not password:
        raise UsageProblem(
            "FREQTRADE_USERNAME and FREQTRADE_PASSWORD must be set (freqtrade's api_server credentials)",
            "Export both variables; they are read from the environment so that ps does not show them",
        )
    directory = config_dir(data_dir)
    service = build_service(data_dir, selection=current_selection(), bot_run=not once)
    service.store.load()  # a missing data directory (or database) is refused here
    if not once:  # the bridge is freqtrade's run: one bot per data directory, as for nija run
        took_over = hold_run_claim(
            directory, bot=current_selection().bot, heartbeat=service.store.load().heartbeat, now=service.clock()
        )
        if took_over:
            click.echo(f"⚠️ {took_over}", err=True)
    client = FreqtradeClient(url, username, password)

    def say(line: str) -> None:
        if not as_json:
            click.echo(line)

    config = load_config(directory) if (directory / "nija.toml").exists() else None
    who = local_who("bridge")
    # A one-off pass is nobody's run: it reads NIJA's state as any reader does (live as the
    # running bridge published it) and never beats over the running bridge's heartbeat.
    heartbeat_s = config.bot.heartbeat_s if config else 1.0
    exchange_account = config.exchange.account if config else None
    run = (
        None
        if once
        else GuardRun(
            service,
            who,
            heartbeat_s=heartbeat_s,
            data_dir=directory,
            account=exchange_account,
            alert=lambda code, message: say(f"⚠️ {code}: {message}"),
        )
    )
    bridge = FreqtradeBridge(
        service,
        client,
        run,
        BridgeOptions(
            cancel_open_orders=cancel_open_orders,
            force_exit=force_exit,
            stop_on_kill=stop_on_kill,
            confirm_timeout_s=confirm_timeout,
        ),
        say=say,
        who=who,
    )
    if run is None:
        permission = service.store.permission_view().check()
        bridge.react(permission)
        receipt = bridge.receipt
        if as_json:
            click.echo(json.dumps({"nija": permission.code, "receipt": receipt.as_dict() if receipt else None}))
        elif receipt is None:
            click.echo(f"NIJA: {permission.reason}; no kill in force, nothing to stop")
        if receipt is not None and not receipt.complete:
            if as_json:
                raise SystemExit(KillNotConfirmed.exit_code)  # the receipt above is the one JSON document
            raise KillNotConfirmed(receipt.summary(), "Check freqtrade now; run the bridge again to retry")
        return
    stop = threading.Event()
    stop_on_signals(stop)
    watcher = StateWatcher(service.store.changes, run, bridge.react, bridge.tick)
    # As every bot run (the guard, nija run): kills the disk cannot take heard directly from
    # the start, then the restart rule (a persisted live state becomes OFF, recorded) and a
    # bare kill file adopted, before the watcher's first check, so it judges freqtrade on OFF.
    run.listen()
    retry: threading.Thread | None = None
    if not _apply_restart_rule(run, bridge, say):
        # The store cannot take the restart rule: the bridge supervises anyway (a live
        # freqtrade is not verifiably LIVE_ACTIVE for this run, so it is paused, its orders
        # cancelled, stopped) and retries the rule every second until the store takes it.
        retry = threading.Thread(
            target=_retry_restart_rule, args=(run, bridge, say, stop), name="nija-restart-rule", daemon=True
        )
        retry.start()
    click.echo(f"NIJA bridge following {directory} for freqtrade at {url}", err=True)
    watcher.start()
    # What a live request needs from the running bot: freqtrade's account, read through its
    # API now (a request may follow right away) and every exchange.reconcile_s. After the
    # watcher starts: a freqtrade slow to answer here must not delay a kill.
    account = FreqtradeAccountWatch(
        FreqtradeClient(url, username, password),
        AccountChecks("freqtrade", "", directory, bridge.alert, dead_man=NO_DEAD_MAN),
        every_s=config.exchange.reconcile_s if config else 30.0,
    )
    account.start()
    stop.wait()
    if retry is not None:
        # An attempt in flight when the stop came may have written the rule: it reports
        # that before the bridge exits (bounded: its lock wait and the view's catch-up).
        retry.join(RESTART_RULE_ATTEMPT_S)
    watcher.stop()
    account.stop()
    account.client.close()
    run.beat(stopped=True)
    run.close()
    client.close()


RESTART_RULE_ATTEMPT_S = 25.0


def _apply_restart_rule(run: GuardRun, bridge: FreqtradeBridge, say: Callable[[str], None]) -> bool:
    """``GuardRun.start``; False (alerted, on stderr) when the store could not take it."""
    try:
        outcome = run.start()
    except NijaError as exc:
        # Whether this run restarted from live is unknown: treated as if it did, so a live
        # freqtrade's open orders are cancelled with its stop.
        bridge.left_live = True
        problem = f"the restart rule could not be applied: {exc.message}"
        bridge.alert("RESTART_RULE_NOT_APPLIED", problem)
        click.echo(
            f"⚠️ {problem}\nFix: {exc.fix or 'make the data directory writable'}; the bridge keeps stopping a live "
            "freqtrade and retries every second",
            err=True,
        )
        return False
    if outcome.changed:
        bridge.left_live = True
        say(f"⚠️ {outcome.before} -> {outcome.after}: a restart never resumes live trading")
    return True


def _retry_restart_rule(
    run: GuardRun, bridge: FreqtradeBridge, say: Callable[[str], None], stop: threading.Event
) -> None:
    while not stop.wait(1.0):
        try:
            outcome = run.start()
        except Exception:  # noqa: BLE001, S112 - alerted once at start; retried while the watcher keeps freqtrade stopped
            continue
        if outcome.changed:
            say(f"⚠️ {outcome.before} -> {outcome.after}: a restart never resumes live trading")
        click.echo("NIJA bridge: the restart rule is applied now", err=True)
        return
