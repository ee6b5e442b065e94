"""The three entry points: ``nija``, ``safe_restore_trading`` and ``emergency_kill_switch``.

Every command loads only when invoked, so that ``--help`` imports click and nothing else
(the recovery commands pull in the stores and rich; the API, the TUI and the audit tools
FastAPI, Textual and pydantic). Each command's one-line help is here so that the group's
help lists it without importing it; ``tests`` check it against the command's own."""

from __future__ import annotations

import importlib

import click

from nija import __version__

Table = dict[str, tuple[str, str]]  # name -> ("module:attribute", the first sentence of its help)

_RECOVERY: Table = {
    "status": (
        "nija.cli.recovery:status",
        "Diagnose the trading state and detect inconsistencies (always run this first).",
    ),
    "restore": ("nija.cli.recovery:restore", "Safely restore trading to DRY_RUN (simulation, no capital at risk)."),
    "reset": ("nija.cli.recovery:reset", "Disable all trading: move to OFF."),
}
_HISTORY: Table = {
    "history": ("nija.cli.recovery:history", "Show the trading state history and the kill switch history."),
}
KILL_COMMANDS: Table = {
    "activate": ("nija.cli.kill:activate", "Stop all trading now."),
    "deactivate": ("nija.cli.kill:deactivate", "Deactivate the kill switch (a reason is required)."),
    "status": ("nija.cli.kill:kill_status", "Show whether the kill switch is active, why, since when and by whom."),
    **_HISTORY,
}
LAZY_COMMANDS: Table = {
    **_RECOVERY,
    **_HISTORY,
    "kill": ("nija.cli.main:kill_group", "The latched kill switch."),
    "agent": ("nija.cli.agent:agent", "The host agent: one fleet-database connection for all the bots of a host."),
    "monitor": ("nija.cli.monitor:monitor", "The terminal control center (also nija_control_center.py)."),
    "audit": ("nija.cli.audit:audit_group", "The tamper-evident audit trail: verify and show."),
    "account": ("nija.cli.account:account_group", "Exchange accounts: limits across every bot trading one."),
    "db": ("nija.cli.db:db_group", "The PostgreSQL fleet database: upgrade and version."),
    "store": ("nija.cli.db:store_group", "Copy a bot's records between stores."),
    "live": ("nija.cli.live:live_group", "Request, confirm or cancel live trading."),
    "serve": ("nija.cli.serve:serve", "Serve the control plane API and the web control center."),
    "token": ("nija.cli.tokens:token_group", "API tokens: create, list, revoke."),
    "run": ("nija.cli.run:run", "Run the trading bot: every order is decided by the state and the kill switch."),
    "bridge": ("nija.cli.bridge:bridge_group", "Put bots NIJA does not run (freqtrade) under its kill switch."),
    "report": ("nija.cli.report:report", "A paper run's trades, win rate, drawdown and charts."),
    "adopt-orders": (
        "nija.cli.adopt:adopt_orders",
        "Adopt the orders and positions recorded in a moved or restored data directory.",
    ),
}


def load(target: str) -> click.Command:
    module, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command


class LazyGroup(click.Group):
    def __init__(self, *args: object, lazy: Table, shown_whole: frozenset[str] = frozenset(), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy
        self.shown_whole = shown_whole  # help lines listed as written, never shortened

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return load(self.lazy[cmd_name][0])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        names = self.list_commands(ctx)
        longest = max(map(len, names), default=0)
        for name in names:
            # click's own rule (the longest name) except in `nija`, which always shortened per name
            limit = formatter.width - 6 - (len(name) if self is nija else longest)
            if name in self.lazy:
                text = self.lazy[name][1]
                rows.append(
                    (
                        name,
                        text if name in self.shown_whole else click.Command(name, help=text).get_short_help_str(limit),
                    )
                )
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    shown_whole=frozenset(LAZY_COMMANDS) - {*_RECOVERY, *_HISTORY},
    help="NIJA safety control plane for trading bots.",
)
@click.version_option(__version__, prog_name="nija")
def nija() -> None:
    pass


@click.group("kill", cls=LazyGroup, lazy=KILL_COMMANDS, help="The latched kill switch.")
def kill_group() -> None:
    pass


@click.group(
    cls=LazyGroup,
    lazy=_RECOVERY,
    help="Safely restore trading after an emergency stop or restart, without risking "
    "capital. Never enables LIVE trading.",
)
def safe_restore_trading() -> None:
    pass


@click.group(cls=LazyGroup, lazy=KILL_COMMANDS, help="Activate or deactivate the emergency kill switch.")
def emergency_kill_switch() -> None:
    pass
