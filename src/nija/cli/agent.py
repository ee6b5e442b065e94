"""``nija agent``: the host agent (one fleet-database connection for every bot of the host)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from nija.cli.common import EXIT_CODES_HELP, handles_errors
from nija.cli.signals import stop_on_signals
from nija.domain.errors import UsageProblem
from nija.store.postgres.connect import mask
from nija.store.postgres.view import stale_after_from_env
from nija.store.selection import StoreSelection

DEFAULT_SOCKET = Path("/run/nija/agent.sock")


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--store", "store_url", envvar="NIJA_STORE", help="The fleet database URL (default: NIJA_STORE).")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_SOCKET,
    show_default=True,
    help="The Unix socket the host's bots connect to ([store] agent in their nija.toml).",
)
@handles_errors
def agent(store_url: str | None, socket_path: Path) -> None:
    """Serve the bots of this host over one database connection: their permission views
    (LISTEN, one re-read for all of them) and their heartbeats. It places no orders: while
    it is away its bots deny every order (VIEW_STALE) and reconnect when it returns."""
    from nija.store.agent.server import HostAgent

    if not store_url:
        raise UsageProblem(
            "nija agent needs the fleet database",
            "Pass --store postgresql://USER@HOST:PORT/DB (or set NIJA_STORE)",
        )
    url = StoreSelection(store_url).validated().url
    assert url is not None
    if not socket_path.is_absolute():
        socket_path = Path.cwd() / socket_path
    logging.basicConfig(level=logging.INFO, format="%(asctime)s nija-agent %(levelname)s %(message)s")
    host = HostAgent(url, socket_path, stale_after_s=stale_after_from_env())
    host.bind()  # a second agent on the same socket is refused here (exit 2)
    stop_on_signals(host.stop)
    click.echo(f"NIJA host agent on {socket_path} for {mask(url)}", err=True)
    sys.stderr.flush()
    host.serve_forever()
    click.echo("NIJA host agent stopped: its bots deny every order until an agent serves them again", err=True)
