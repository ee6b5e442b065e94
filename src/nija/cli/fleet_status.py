"""``status --fleet`` (or ``status`` on the fleet store without ``--bot``): the fleet's kill
switch and every bot's state, kill switch, permission and liveness at a glance."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from nija.cli import render
from nija.cli.common import print_json
from nija.domain.diagnosis import StatusReport, report
from nija.domain.errors import InconsistenciesFound
from nija.domain.text import printable
from nija.service import system_clock
from nija.store.ports import Store
from nija.views import status_view, to_json


@dataclass(frozen=True, slots=True)
class FleetStatus:
    fleet: StatusReport
    bots: dict[str, StatusReport]
    accounts: dict[str, StatusReport]  # each exchange account's own kill scope

    @property
    def inconsistent(self) -> bool:
        return bool(self.fleet.inconsistencies) or any(r.inconsistencies for r in self.bots.values())


def fleet_status(store: Any) -> FleetStatus:
    now = system_clock()
    from nija.store.postgres.rows import ACCOUNT_PREFIX  # psycopg: only on the fleet store

    bots = {name: report(store.load_scope(name), now, history_items=0) for name in store.scopes()}
    accounts = {
        name: report(store.load_scope(ACCOUNT_PREFIX + name), now, history_items=1) for name in store.accounts()
    }
    return FleetStatus(report(store.load(), now, history_items=5), bots, accounts)


def show_fleet(store: Store, as_json: bool) -> bool:
    """Print the fleet overview if ``store`` is a fleet's scope; False otherwise."""
    if not getattr(store, "is_fleet", False):
        return False
    status = fleet_status(store)
    if as_json:
        fleet = {
            "fleet": status_view(status.fleet, store.location),
            "bots": {name: status_view(r, f"{store.location} bot {name}") for name, r in status.bots.items()},
            "accounts": {
                name: status_view(r, f"{store.location} account {name}") for name, r in status.accounts.items()
            },
        }
        print_json(to_json(fleet))
    else:
        _render(status, store.location)
    if status.inconsistent:
        sys.exit(InconsistenciesFound.exit_code)
    return True


def _render(status: FleetStatus, location: str) -> None:
    out = render.console()
    fleet = status.fleet
    kill = "🛑 ACTIVE" if fleet.kill_active else "✅ inactive"
    out.print(f"🚢 FLEET KILL SWITCH: {kill}", style="bold red" if fleet.kill_active else "bold green")
    if fleet.kill_active and fleet.last_activation is not None:
        act = fleet.last_activation
        since = act.timestamp.isoformat(timespec="seconds")
        out.print(f"Reason: {printable(act.reason)} (since {since}, by {printable(act.actor)})")
    for name, account in status.accounts.items():
        if account.kill_active:  # an account's kill stops every bot trading it
            cause = account.last_activation
            why = f": {printable(cause.reason)} (by {printable(cause.actor)})" if cause is not None else ""
            out.print(f"🏦 ACCOUNT {printable(name)} KILL SWITCH: 🛑 ACTIVE{why}", style="bold red")
    table = Table("bot", "state", "kill switch", "can trade", "alive", "issues")
    for name, r in status.bots.items():
        table.add_row(
            name,
            str(r.state),
            "ACTIVE" if r.kill_active else "inactive",
            f"yes ({r.permission.mode})" if r.can_trade else f"no ({r.permission.code})",
            "yes" if r.bot_alive else "no",
            ", ".join(i.code for i in r.inconsistencies) or "-",
        )
    if status.bots:
        out.print(table)
    else:
        out.print("No bots recorded yet (a bot appears once it runs with --bot NAME).")
    for item in fleet.inconsistencies:
        out.print(f"⚠️ FLEET: {item.code}: {item.message}\n💡 Solution: {item.fix}")
    out.print(f"Data: {location}", style="dim")
