"""``emergency_kill_switch.py activate|deactivate|status|history``."""

from __future__ import annotations

from pathlib import Path

import click

from nija import emergency
from nija.assembly import build_service
from nija.cli import render
from nija.cli.common import (
    EXIT_CODES_HELP,
    Invocation,
    adopting,
    cli_who,
    common_options,
    confirm,
    current_selection,
    handles_errors,
    print_json,
    warn_listener_errors,
)
from nija.config import CONFIG_FILE
from nija.domain.errors import NijaError
from nija.domain.text import printable
from nija.service import SafetyService
from nija.store import config_dir


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
    text = " ".join(reason)
    early = emergency.raised(str(config_dir(data_dir)), text)  # raised before NIJA loaded
    # Not adopted first: this activation records that flag itself, at the raise's time.
    service = _emergency_service(data_dir, adopt=early is None)
    if early is None:
        result = service.activate_kill(text, cli_who())
    else:  # the flag is up already: record it at the raise's time, with what its raise met
        result = service.activate_kill(text, cli_who(), now=early.now, raised=True, raise_problem=early.problem())
    warn_listener_errors(service)
    if as_json:
        from nija.views import outcome_view, to_json  # the views load for --json only (start-up)

        print_json(to_json(outcome_view(result)))
        return
    out = render.out()
    for warning in result.warnings:
        out.text(f"⚠️ {warning}", style="yellow")
    if result.messages:  # already active: the cause and its "since" stay the first activation's
        out.text(f"🛑 {' '.join(result.messages)}", style="bold red")
    else:
        out.print("🛑 KILL SWITCH ACTIVATED: all trading is stopped (EMERGENCY_STOP)", style="bold red")
    out.print(
        "To resume later: fix the cause, then run "
        "'python emergency_kill_switch.py deactivate \"<what was fixed>\"' and "
        "'python safe_restore_trading.py restore'."
    )


def _emergency_service(data_dir: Path | None, *, adopt: bool = True) -> SafetyService:
    """The service, even when nija.toml is broken: a bad setting must never stop a stop
    (nor hide one). Falls back to the default settings (same store) and says so on stderr."""
    record = adopting if adopt else _as_is
    try:
        return record(build_service(data_dir, selection=current_selection()))
    except NijaError:
        problem = _config_problem(data_dir)
        if problem is None:
            raise  # not the configuration: the store itself cannot be opened
    click.echo(
        f"⚠️ Warning: {problem.message}. Using the default settings "
        f"(notifications configured there are not sent); fix: {problem.fix}",
        err=True,
    )
    from nija.config import NijaConfig

    return record(build_service(data_dir, config=NijaConfig(), selection=current_selection()))


def _as_is(service: SafetyService) -> SafetyService:
    return service


def _config_problem(data_dir: Path | None) -> NijaError | None:
    directory = config_dir(data_dir)
    if not (directory / CONFIG_FILE).exists():
        return None
    from nija.config import load_config  # pydantic loads only on this rare path

    try:
        load_config(directory)
    except NijaError as exc:
        return exc
    return None


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
    service = Invocation(data_dir, as_json, yes).service()
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
    service = _emergency_service(data_dir)  # seeing the kill must not depend on nija.toml either
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
