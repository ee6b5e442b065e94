"""``status``, ``restore``, ``reset`` and ``history``: the guide's recovery commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nija.cli import render
from nija.cli.common import (
    EXIT_CODES_HELP,
    Invocation,
    cli_who,
    common_options,
    confirm,
    handles_errors,
    print_json,
    warn_listener_errors,
)
from nija.domain.errors import InconsistenciesFound
from nija.store import config_dir

if TYPE_CHECKING:
    from nija.exchange_checks import ExchangeChecks
    from nija.kill_receipt import KillReceipt

RECEIPT_FILE, CHECKS_FILE = ".nija_kill_receipt.json", ".nija_exchange_checks.json"  # as in those modules


@click.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=False)
@handles_errors
def status(data_dir: Path | None, as_json: bool) -> None:
    """Diagnose the trading state and detect inconsistencies (always run this first)."""
    service = Invocation(data_dir, as_json, yes=False).service()
    if getattr(service.store, "is_fleet", False):  # rich's tables load only for the fleet
        from nija.cli.fleet_status import show_fleet

        show_fleet(service.store, as_json)
        return
    report = service.status()
    directory = config_dir(data_dir)
    receipt, exchange = _exchange_reports(directory)
    if as_json:
        from nija.views import status_view, to_json  # the views load for --json only (start-up)

        view = to_json(status_view(report, service.store.location))
        exchange_view = exchange.model_dump(mode="json") if exchange else None
        receipt_json = receipt.model_dump(mode="json") | {"verdict": receipt.verdict} if receipt else None
        print_json({**view, "kill_receipt": receipt_json, "exchange_checks": exchange_view})
    else:
        out = render.out()
        render.status(out, report, service.store.location)
        if exchange is not None:
            render.exchange_checks(out, exchange)
        if receipt is not None:
            render.kill_receipt(out, receipt)
    if report.inconsistencies:
        sys.exit(InconsistenciesFound.exit_code)


@click.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=True)
@handles_errors
def restore(data_dir: Path | None, as_json: bool, yes: bool) -> None:
    """Safely restore trading to DRY_RUN (simulation, no capital at risk).

    EMERGENCY_STOP → OFF → DRY_RUN. Refuses while the kill switch is active.
    Never enables LIVE trading."""
    service = Invocation(data_dir, as_json, yes).service()
    plan = service.plan_restore()
    out = render.out()
    if not plan.nothing_to_do:
        if not as_json:
            render.plan(out, plan, "🔄 SAFE RESTORE TO DRY_RUN")
            out.print("🛡️ This never enables LIVE trading: DRY_RUN simulates every order.")
        confirm(f"Restore {plan.path}?", yes=yes)
    # With --yes nobody reviewed the plan shown: plan again under the lock and apply that.
    result = service.restore(cli_who(), expected=None if yes else plan)
    warn_listener_errors(service)
    if as_json:
        from nija.views import outcome_view, to_json

        print_json(to_json(outcome_view(result)))
        return
    render.outcome(out, result, "Restored to simulation mode")
    if result.changed:
        out.print(
            "Next: monitor DRY_RUN (at least 1 hour is recommended); enable LIVE only via "
            "the UI/API with the risk acknowledgment."
        )


@click.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=True)
@handles_errors
def reset(data_dir: Path | None, as_json: bool, yes: bool) -> None:
    """Disable all trading: move to OFF. Refuses while the kill switch is active."""
    service = Invocation(data_dir, as_json, yes).service()
    plan = service.plan_reset()
    out = render.out()
    if not plan.nothing_to_do:
        if not as_json:
            render.plan(out, plan, "⏹️ RESET TO OFF")
        confirm(f"Reset {plan.path}?", yes=yes)
    result = service.reset(cli_who(), expected=None if yes else plan)
    warn_listener_errors(service)
    if as_json:
        from nija.views import outcome_view, to_json

        print_json(to_json(outcome_view(result)))
    else:
        render.outcome(out, result, "Trading disabled")


@click.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=False)
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="How many of the newest entries to show."
)
@handles_errors
def history(data_dir: Path | None, as_json: bool, limit: int) -> None:
    """Show the trading state history and the kill switch history."""
    service = Invocation(data_dir, as_json, yes=False).service()
    transitions, kills = service.history()
    transitions, kills = transitions[-limit:], kills[-limit:]
    if as_json:
        from nija.views import history_view, to_json

        print_json(to_json(history_view(transitions, kills)))
        return
    out = render.out()
    out.print("📜 TRADING STATE HISTORY", style="bold")
    for t in transitions:
        out.print(render.transition_line(t))
    if not transitions:
        out.print("(none)")
    out.print("🛑 KILL SWITCH HISTORY", style="bold")
    for k in kills:
        out.print(render.kill_event_line(k))
    if not kills:
        out.print("(none)")


def _exchange_reports(directory: Path) -> tuple[KillReceipt | None, ExchangeChecks | None]:
    """The bot's kill receipt and exchange checks, if it wrote any (pydantic loads only then)."""
    if not (directory / RECEIPT_FILE).exists() and not (directory / CHECKS_FILE).exists():
        return None, None
    from nija.exchange_checks import read_checks
    from nija.kill_receipt import read_receipt

    return read_receipt(directory), read_checks(directory)
