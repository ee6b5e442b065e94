"""``nija account limits|status NAME --store URL``: an exchange account's limits across every
bot trading it (the bots declare it: ``[exchange] account`` in nija.toml)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import click

from nija.cli import render
from nija.cli.common import EXIT_CODES_HELP, handles_errors, print_json
from nija.domain.errors import UsageProblem
from nija.domain.events import Event, EventKind
from nija.identity import local_who
from nija.store.postgres import PostgresStore
from nija.store.postgres.rows import account_scope
from nija.store.selection import StoreSelection, check_account_name

_STORE = click.option("--store", "url", envvar="NIJA_STORE", required=True, metavar="URL", help="The fleet database.")


@click.group("account", help="Exchange accounts: limits across every bot trading one.")
def account_group() -> None:
    pass


def _store(url: str, name: str) -> PostgresStore:
    StoreSelection(url, account=check_account_name(name)).validated()
    return PostgresStore(url, bot=account_scope(name))


def _limit(value: float | None, flag: str) -> float | None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise UsageProblem(f"{flag} must be a positive number, not {value!r}", f"Pass {flag} 1000, or omit it")
    return value


@account_group.command(epilog=EXIT_CODES_HELP)
@click.argument("name")
@_STORE
@click.option("--daily-loss", type=float, help="Account-wide daily loss limit (quote currency); omit: none.")
@click.option("--gross-exposure", type=float, help="Account-wide gross exposure limit (quote value); omit: none.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@handles_errors
def limits(name: str, url: str, daily_loss: float | None, gross_exposure: float | None, as_json: bool) -> None:
    """Set NAME's limits (replacing both): breaching one kills every bot on the account."""
    daily_loss, gross_exposure = _limit(daily_loss, "--daily-loss"), _limit(gross_exposure, "--gross-exposure")
    store = _store(url, name)
    who = local_who("cli")
    reason = f"limits of account {name}: daily loss {daily_loss or 'none'}, gross exposure {gross_exposure or 'none'}"
    details = {"daily_loss": str(daily_loss), "gross_exposure": str(gross_exposure)}
    try:
        event = Event(EventKind.ACCOUNT_LIMITS_SET, who.actor, who.source, reason, datetime.now(UTC), details)
        store.set_account_limits(name, daily_loss, gross_exposure, event)
    finally:
        store.close()
    if as_json:
        print_json({"account": name, "daily_loss": daily_loss, "gross_exposure": gross_exposure})
        return
    render.console().print(f"✅ Set the {reason}", markup=False)


@account_group.command(epilog=EXIT_CODES_HELP)
@click.argument("name")
@_STORE
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@handles_errors
def status(name: str, url: str, as_json: bool) -> None:
    """NAME's limits, today's figures per bot (summed by the database) and its kill switch."""
    store = _store(url, name)
    try:
        figures = store.account_figures(name, datetime.now(UTC).date())
        killed = store.load().kill_active
    finally:
        store.close()
    view = {
        "account": name,
        "kill_active": killed,
        "limits": {"daily_loss": figures.limits.daily_loss, "gross_exposure": figures.limits.gross_exposure},
        "daily_loss": figures.daily_loss,
        "gross_exposure": figures.gross_exposure,
        "bots": [{"bot": b.bot, "daily_loss": b.daily_loss, "gross_exposure": b.gross_exposure} for b in figures.bots],
    }
    if as_json:
        print_json(view)
        return
    out = render.console()
    out.print(f"ACCOUNT {name} KILL SWITCH: {'🛑 ACTIVE' if killed else '✅ inactive'}", markup=False)
    out.print(
        f"limits: {view['limits']}; today: loss {figures.daily_loss:,.2f}, exposure {figures.gross_exposure:,.2f}",
        markup=False,
    )
    for b in figures.bots:
        out.print(f"  {b.bot}: loss {b.daily_loss}, exposure {b.gross_exposure}", markup=False)
