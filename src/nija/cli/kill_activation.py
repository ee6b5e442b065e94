"""What ``kill activate`` does once its arguments are read: record the activation (or the
kill file ``nija.emergency`` raised before NIJA loaded) and say exactly where the kill is
in force. No click here: the click command (``nija.cli.kill``) and the fast path of a
plain activation (``nija.cli.plain``) both call ``activate``."""

from __future__ import annotations

from pathlib import Path

from nija import emergency
from nija.assembly import build_service
from nija.cli import render
from nija.cli.invocation import adopting, cli_who, current_selection
from nija.cli.output import print_json
from nija.cli.reporting import warn, warn_listener_errors
from nija.config import CONFIG_FILE
from nija.domain.errors import NijaError
from nija.service import Outcome, SafetyService
from nija.store import config_dir


def activate(text: str, data_dir: Path | None, as_json: bool) -> None:
    service, result = record(text, data_dir)
    show(service, result, as_json)


def record(text: str, data_dir: Path | None) -> tuple[SafetyService, Outcome]:
    """Activate (or record the flag ``nija.emergency`` raised): the kill is recorded when this returns."""
    early = emergency.raised(str(config_dir(data_dir)), text)  # raised before NIJA loaded
    # Not adopted first: this activation records that flag itself, at the raise's time.
    service = emergency_service(data_dir, adopt=early is None)
    if early is None:
        return service, service.activate_kill(text, cli_who())
    # The flag is up already: record it at the raise's time, with what its raise met.
    return service, service.activate_kill(text, cli_who(), now=early.now, raised=True, raise_problem=early.problem())


def show(service: SafetyService, result: Outcome, as_json: bool) -> None:
    """What an activation says once it is recorded."""
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


def emergency_service(data_dir: Path | None, *, adopt: bool = True) -> SafetyService:
    """The service, even when nija.toml is broken: a bad setting must never stop a stop
    (nor hide one). Falls back to the default settings (same store) and says so on stderr."""
    record = adopting if adopt else _as_is
    try:
        return record(build_service(data_dir, selection=current_selection()))
    except NijaError:
        problem = _config_problem(data_dir)
        if problem is None:
            raise  # not the configuration: the store itself cannot be opened
    warn(
        f"{problem.message}. Using the default settings "
        f"(notifications configured there are not sent); fix: {problem.fix}"
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
