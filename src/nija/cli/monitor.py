"""``nija monitor`` and ``python nija_control_center.py``: the terminal control center."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from nija.cli.common import EXIT_CODES_HELP, common_options, current_selection, handles_errors, print_json
from nija.domain.errors import InconsistenciesFound, UsageProblem
from nija.service import system_clock
from nija.tui import render
from nija.tui.backend import Backend
from nija.tui.frame import Frame
from nija.views import to_json


@click.command(epilog=EXIT_CODES_HELP + " With --snapshot, 5 means the frame shows inconsistencies.")
@common_options(mutating=False)
@click.option("--api", "api_url", envvar="NIJA_API_URL", help="Watch a remote control plane at this URL instead.")
@click.option(
    "--token",
    envvar="NIJA_API_TOKEN",
    help="Bearer token for --api. Prefer setting NIJA_API_TOKEN: a command line is visible to every local user.",
)
@click.option("--snapshot", is_flag=True, help="Print one plain-text frame (80 columns, no colour) and exit.")
@handles_errors
def monitor(data_dir: Path | None, as_json: bool, api_url: str | None, token: str | None, snapshot: bool) -> None:
    """Watch the trading state, kill switch and bot live, and act on them.

    Keys: k kill, d deactivate, r restore, x reset, h history, q quit.
    --snapshot --json prints the frame's data as JSON instead."""
    backend = _backend(data_dir, api_url, token)
    if snapshot:
        frame = asyncio.run(_snapshot_frame(backend))
        if as_json:
            runtime = frame.runtime.model_dump(mode="json") if frame.runtime else None
            print_json({"status": to_json(frame.status), "runtime": runtime})
        else:
            click.echo(render.snapshot(frame, system_clock()), nl=False)
        if frame.status.inconsistencies:
            sys.exit(InconsistenciesFound.exit_code)
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageProblem(
            "The control center needs a terminal (standard input or output is not a TTY)",
            "Use --snapshot to print one frame for scripts and cron",
        )
    from nija.tui.app import ControlCenter  # textual loads only for the live screen

    ControlCenter(backend).run()


def _backend(data_dir: Path | None, api_url: str | None, token: str | None) -> Backend:
    if api_url is None:
        from nija.tui.local import LocalBackend

        return LocalBackend(data_dir, current_selection())
    if data_dir is not None:
        raise UsageProblem("--api and --data-dir cannot be used together", "Pass one of them")
    if not token:
        raise UsageProblem("--api needs a token", "Set NIJA_API_TOKEN (or pass --token, which others can see in ps)")
    from nija.tui.remote import RemoteBackend

    return RemoteBackend(api_url, token)


async def _snapshot_frame(backend: Backend) -> Frame:
    try:
        return await backend.frame()
    finally:
        await backend.close()
