"""The three entry points: ``nija``, ``safe_restore_trading`` and ``emergency_kill_switch``."""

from __future__ import annotations

import click

from nija import __version__
from nija.cli.audit import audit_group
from nija.cli.db import db_group, store_group
from nija.cli.kill import kill_commands
from nija.cli.live import live_group
from nija.cli.recovery import history, reset, restore, status
from nija.cli.run import run
from nija.cli.serve import serve as serve_command
from nija.cli.tokens import token_group


@click.group(help="NIJA safety control plane for trading bots.")
@click.version_option(__version__, prog_name="nija")
def nija() -> None:
    pass


@click.group("kill", help="The latched kill switch.")
def kill_group() -> None:
    pass


for _name, _command in kill_commands.items():
    kill_group.add_command(_command, _name)
for _command in (status, restore, reset, history, run):
    nija.add_command(_command)
nija.add_command(kill_group)
nija.add_command(audit_group)
nija.add_command(db_group)
nija.add_command(store_group)
nija.add_command(live_group)
nija.add_command(serve_command, "serve")
nija.add_command(token_group)


@click.group(
    help="Safely restore trading after an emergency stop or restart, without risking "
    "capital. Never enables LIVE trading."
)
def safe_restore_trading() -> None:
    pass


for _command in (status, restore, reset):
    safe_restore_trading.add_command(_command)


@click.group(help="Activate or deactivate the emergency kill switch.")
def emergency_kill_switch() -> None:
    pass


for _name, _command in kill_commands.items():
    emergency_kill_switch.add_command(_command, _name)
