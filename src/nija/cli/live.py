"""``nija live request|confirm|cancel``: the live-enable flow from a terminal.

The same rules as the API: a bot running in DRY_RUN for the minimum period, credentials, a
one-time code and the risk acknowledgment typed exactly. The recovery tool never offers this."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nija.cli import render
from nija.cli.common import EXIT_CODES_HELP, cli_who, command_service, common_options, handles_errors, print_json
from nija.domain.errors import AcknowledgmentRequired
from nija.domain.text import printable
from nija.store import config_dir
from nija.views import live_request_view, outcome_view, to_json


@click.group("live", help="Enable live trading (request, then confirm with the risk acknowledgment).")
def live_group() -> None:
    pass


@live_group.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=True)
@handles_errors
def request(data_dir: Path | None, as_json: bool, yes: bool) -> None:
    """DRY_RUN → LIVE_PENDING_CONFIRMATION; prints the one-time confirmation code
    (never asks: --yes/--force are accepted and change nothing)."""
    service = command_service(data_dir, strict_config=True)
    result = service.request_live(cli_who())
    if as_json:
        print_json(to_json(live_request_view(result)))
        return
    out = render.console()
    out.print("⏳ Live trading requested: LIVE_PENDING_CONFIRMATION", style="bold yellow")
    click.echo(f"Confirmation code: {result.code}")
    click.echo(f"For bot run: {result.run}  (only this running bot may trade live on it; a restart voids it)")
    click.echo(f"Expires at: {result.expires_at.isoformat(timespec='seconds')}")
    click.echo("Confirm with: nija live confirm CODE  (you will type the risk acknowledgment)")
    for warning in result.outcome.warnings:  # e.g. "permissions unknown", no dead man's switch
        out.print(f"⚠️  {printable(warning)}", style="yellow", markup=False)
    from nija.exchange_checks import read_checks

    checks = read_checks(config_dir(data_dir))
    if checks is not None:
        render.exchange_checks(out, checks)


@live_group.command(epilog=EXIT_CODES_HELP)
@click.argument("code")
@click.option("--phrase", help="The risk acknowledgment, typed exactly (asked on the terminal if omitted).")
@common_options(mutating=False)
@handles_errors
def confirm(code: str, phrase: str | None, data_dir: Path | None, as_json: bool) -> None:
    """LIVE_PENDING_CONFIRMATION → LIVE_ACTIVE: REAL CAPITAL AT RISK."""
    service = command_service(data_dir, strict_config=True)
    if phrase is None:
        expected = service.policy.phrase
        if not sys.stdin.isatty():
            raise AcknowledgmentRequired(
                "No terminal to type the risk acknowledgment on; nothing was done",
                f'Pass --phrase "{expected}"',
            )
        click.echo(f"⚠️  Live trading risks real capital. Type exactly: {expected}", err=True)
        phrase = click.prompt("Acknowledgment", default="", show_default=False, err=True)
    result = service.confirm_live(code, phrase, cli_who())
    if as_json:
        print_json(to_json(outcome_view(result)))
        return
    render.outcome(render.console(), result, "🔴 LIVE TRADING ACTIVE")


@live_group.command(epilog=EXIT_CODES_HELP)
@click.argument("reason", nargs=-1)
@common_options(mutating=True)
@handles_errors
def cancel(reason: tuple[str, ...], data_dir: Path | None, as_json: bool, yes: bool) -> None:
    """Withdraw the live request: back to DRY_RUN (never asks: --yes/--force change nothing)."""
    service = command_service(data_dir)
    result = service.cancel_live(cli_who(), " ".join(reason))
    if as_json:
        print_json(to_json(outcome_view(result)))
        return
    render.outcome(render.console(), result, "Live request cancelled")
