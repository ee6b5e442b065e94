"""``nija serve``: the HTTP API and web control center."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nija.cli.common import EXIT_CODES_HELP, handles_errors
from nija.cli.reporting import warn
from nija.config import load_config_lenient
from nija.domain.errors import AddressInUse, UsageProblem
from nija.store import config_dir
from nija.store.atomic import directory_exposure

if TYPE_CHECKING:
    from fastapi import FastAPI


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1, or [api] host in nija.toml).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8765, or [api] port).")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow binding a non-loopback address. Put the server behind TLS (a reverse proxy) first.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="NIJA_DATA_DIR",
    help="Directory holding the state files (default: NIJA_DATA_DIR, else the current directory).",
)
@handles_errors
def serve(host: str | None, port: int | None, allow_remote: bool, data_dir: Path | None) -> None:
    """Serve the control plane API and the web control center (sign in with a token
    from 'nija token create')."""
    from nija.api.app import create_app  # imported here: the other commands start without the web stack

    directory = config_dir(data_dir)  # nija.toml, tokens and the audit trail, for every store
    problems: list[str] = []

    def noted(message: str) -> None:
        problems.append(message)
        warn(f"{message}. Live trading cannot be requested until nija.toml is fixed and the server restarted")

    settings = load_config_lenient(directory, noted)
    bind = host or settings.api.host
    chosen_port = port or settings.api.port
    if not is_loopback(bind):
        if not allow_remote:
            raise UsageProblem(
                f"Refusing to listen on {bind}: only loopback addresses are allowed by default",
                "Pass --allow-remote, and serve it behind a TLS reverse proxy (tokens travel in every request)",
            )
        click.echo(
            f"⚠️  Listening on {bind} WITHOUT TLS: API tokens cross the network in clear text. "
            "Put a TLS reverse proxy in front of it.",
            err=True,
        )
    exposure = directory_exposure(directory)
    if exposure is not None:
        click.echo(f"⚠️  {exposure}", err=True)
    listening = _bind(bind, chosen_port)  # before the success line: a busy port is an error, not a banner
    app = create_app(directory, settings, config_problem=problems[0] if problems else None, on_config_change=warn)
    proxies = settings.api.trusted_proxies
    click.echo(f"NIJA control center on http://{bind}:{chosen_port}/ (data directory {directory})", err=True)
    if proxies:
        click.echo(f"Believing X-Forwarded-For only from the trusted proxies {', '.join(proxies)}", err=True)
    _run(app, listening, proxies)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AddressInUse(
                f"Cannot listen on {host}:{port}: the port is already in use (another nija serve?)",
                f"Stop what holds it (ss -ltnp 'sport = :{port}'), or pass --port with a free port",
            ) from exc
        raise AddressInUse(
            f"Cannot listen on {host}:{port}: {exc.strerror}", "Check the address, or pass --host/--port"
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _run(app: FastAPI, sock: socket.socket, trusted_proxies: tuple[str, ...] = ()) -> None:
    import uvicorn  # imported here: the other commands start without the web stack

    # sse-starlette ends the open event streams when uvicorn shuts down.
    config = uvicorn.Config(
        app,
        log_level="warning",
        timeout_graceful_shutdown=3,
        # uvicorn believes X-Forwarded-For from loopback by default: off unless proxies are named.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) if trusted_proxies else None,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: stopping is a normal end
        click.echo("NIJA control center stopped.", err=True)
