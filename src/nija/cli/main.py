"""The three entry points: ``nija``, ``safe_restore_trading`` and ``emergency_kill_switch``."""

from __future__ import annotations

import importlib

import click

from nija import __version__
from nija.cli.kill import kill_commands
from nija.cli.recovery import history, reset, restore, status

# Loaded only when invoked: the recovery commands must start fast (the API, the TUI and
# the audit tools pull in FastAPI, Textual and pydantic). Their one-line help is here so
# that `nija --help` lists them without importing any of them.
LAZY_COMMANDS = {
    "monitor": ("nija.cli.monitor:monitor", "The terminal control center (also nija_control_center.py)."),
    "audit": ("nija.cli.audit:audit_group", "The tamper-evident audit trail: verify and show."),
    "db": ("nija.cli.db:db_group", "The PostgreSQL fleet database: upgrade and version."),
    "store": ("nija.cli.db:store_group", "Copy a bot's records between stores."),
    "live": ("nija.cli.live:live_group", "Request, confirm or cancel live trading."),
    "serve": ("nija.cli.serve:serve", "Serve the control plane API and the web control center."),
    "token": ("nija.cli.tokens:token_group", "API tokens: create, list, revoke."),
    "run": ("nija.cli.run:run", "Run the trading bot: every order is decided by the state and the kill switch."),
    "report": ("nija.cli.report:report", "A paper run's trades, win rate, drawdown and charts."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, _, attribute = LAZY_COMMANDS[cmd_name][0].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                rows.append((name, LAZY_COMMANDS[name][1]))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


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
