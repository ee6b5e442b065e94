"""``emergency_kill_switch.py activate|deactivate|status|history``."""

from __future__ import annotations

from pathlib import Path

import click

from nija.cli import kill_activation, render
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
from nija.domain.text import printable


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("reason", nargs=-1)
@common_options(mutating=True)
@handles_errors
def activate(reason: tuple[str, ...], data_dir: Path | None, as_json: bool, yes: bool) -> None:
    """Stop all trading now. Never asks: in an emergency it must be instant
    (--yes/--force are accepted and change nothing, for scripts that pass them).

    Already active: the kill's cause and "since" stay the first activation's; this
    reason is added to the history as a note. If the kill cannot be written to disk
    (read-only or full file system, permissions), every running bot of the data
    directory is told directly and the command exits 4, saying whether the kill is in
    force in their memory only (KILL_IN_MEMORY_ONLY) or not at all (KILL_NOT_IN_FORCE)."""
    kill_activation.activate(" ".join(reason), data_dir, as_json)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("reason", nargs=-1)
@common_options(mutating=True)
@handles_errors
def deactivate(reason: tuple[str, ...], data_dir: Path | None, as_json: bool, yes: bool) -> None:
    """Deactivate the kill switch (a reason is required). Moves EMERGENCY_STOP to OFF,
    never to trading: run 'safe_restore_trading.py restore' afterwards.

    Refused (exit 3, nothing written) if a new kill arrived since you looked (a new or
    touched kill file included), or if EMERGENCY_STOP is not a regular file (a
    directory, link, FIFO...): remove it yourself as the message says, then run again."""
    service = command_service(data_dir)
    text = " ".join(reason)
    seen = service.kill_seen()  # a kill raised while the prompt waits must not be cleared by it
    if text.strip() and service.snapshot().kill_active:
        confirm(f"Deactivate the kill switch ({printable(text)})?", yes=yes)
    result = service.deactivate_kill(text, cli_who(), expected=seen)
    warn_listener_errors(service)
    if as_json:
        from nija.views import outcome_view, to_json  # the views load for --json only (start-up)

        print_json(to_json(outcome_view(result)))
        return
    out = render.out()
    render.outcome(out, result, "Kill switch deactivated")
    if result.changed or not result.kill_active:
        out.print("Trading stays disabled (OFF). Next: 'python safe_restore_trading.py restore' to resume in DRY_RUN.")


@click.command("status", epilog=EXIT_CODES_HELP)
@common_options(mutating=False)
@handles_errors
def kill_status(data_dir: Path | None, as_json: bool) -> None:
    """Show whether the kill switch is active, why, since when and by whom."""
    service = kill_activation.emergency_service(data_dir)  # seeing the kill must not depend on nija.toml either
    report = service.status()
    if as_json:
        from nija.views import status_view, to_json

        print_json(to_json(status_view(report, service.store.location).kill_switch))
        return
    out = render.out()
    if report.kill_active:
        out.print("🛑 KILL SWITCH: ACTIVE", style="bold red")
        act = report.last_activation
        if act is not None:
            out.text(
                f"Reason: {printable(act.reason)}\nSince: {act.timestamp.isoformat(timespec='seconds')}"
                f"\nBy: {printable(act.actor)} via {printable(act.source)}"
            )
    else:
        out.print("✅ KILL SWITCH: inactive", style="green")
    out.print(f"Kill File Exists: {report.kill_file_exists}")
    out.print(f"Trading State Machine: {report.state}")
