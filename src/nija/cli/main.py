"""The three entry points: ``nija``, ``safe_restore_trading`` and ``emergency_kill_switch``."""

from __future__ import annotations

import importlib

import click

from nija import __version__
from nija.cli.kill import kill_commands
from nija.cli.recovery import history, reset, restore, status

# Loaded only when invoked: the recovery commands must start fast (the API, the TUI and
# the audit tools pull in FastAPI, Textual and pydantic).
LAZY_COMMANDS = {
    "monitor": "nija.cli.monitor:monitor",
    "audit": "nija.cli.audit:audit_group",
    "db": "nija.cli.db:db_group",
    "store": "nija.cli.db:store_group",
    "live": "nija.cli.live:live_group",
    "serve": "nija.cli.serve:serve",
    "token": "nija.cli.tokens:token_group",
    "run": "nija.cli.run:run",
    "report": "nija.cli.report:report",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, _, attribute = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, help="NIJA safety control plane for trading bots.")
@click.version_option(__version__, prog_name="nija")
def nija() -> None:
    pass


@click.group("kill", help="The latched kill switch.")
def kill_group() -> None:
    pass


for _name, _command in kill_commands.items():
    kill_group.add_command(_command, _name)
for _command in (status, restore, reset, history):
    nija.add_command(_command)
nija.add_command(kill_group)


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
