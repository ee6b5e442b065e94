"""``status``, ``restore``, ``reset`` and ``history``: the guide's recovery commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nija.cli import render
from nija.cli.common import (
    EXIT_CODES_HELP,
    cli_who,
    command_service,
    common_options,
    confirm,
    handles_errors,
    print_json,
    warn_listener_errors,
)
from nija.cli.show_status import show_status


@click.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=False)
@handles_errors
def status(data_dir: Path | None, as_json: bool) -> None:
    """Diagnose the trading state and detect inconsistencies (always run this first)."""
    code = show_status(data_dir, as_json)
    if code:
        sys.exit(code)


@click.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=True)
@handles_errors
def restore(data_dir: Path | None, as_json: bool, yes: bool) -> None:
    """Safely restore trading to DRY_RUN (simulation, no capital at risk).

    EMERGENCY_STOP → OFF → DRY_RUN. Refuses while the kill switch is active.
    Never enables LIVE trading."""
    service = command_service(data_dir)
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
    service = command_service(data_dir)
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
    service = command_service(data_dir)
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
