"""What every command shares: options, the service, prompts, and error handling that
maps the exception tree onto exit codes without a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from nija.cli.invocation import SELECTION_KEY, adopting, cli_who, command_service, current_selection
from nija.cli.output import print_json
from nija.cli.reporting import fail, report_error, warn_listener_errors
from nija.domain.codes import ErrorCode
from nija.domain.errors import ConfirmationDeclined
from nija.store.selection import StoreSelection

__all__ = [
    "EXIT_CODES_HELP",
    "adopting",
    "cli_who",
    "command_service",
    "common_options",
    "confirm",
    "current_selection",
    "handles_errors",
    "print_json",
    "warn_listener_errors",
]

P = ParamSpec("P")
T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 done (or nothing to do), 1 unexpected error, 2 usage, 3 refused by a "
    "safety rule, 4 storage problem, 5 inconsistencies found (status only)."
)


def _remember_selection(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Collect the store options in the context, so command signatures stay unchanged."""
    chosen = ctx.meta.get(SELECTION_KEY, StoreSelection())
    if param.name == "store_url" and value:
        chosen = StoreSelection(value, chosen.bot, chosen.fleet, chosen.account)
    elif param.name == "bot" and value:
        chosen = StoreSelection(chosen.url, value, chosen.fleet, chosen.account)
    elif param.name == "fleet" and value:
        chosen = StoreSelection(chosen.url, chosen.bot, True, chosen.account)
    elif param.name == "account" and value:
        chosen = StoreSelection(chosen.url, chosen.bot, chosen.fleet, value)
    ctx.meta[SELECTION_KEY] = chosen
    return value


def common_options(*, mutating: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--data-dir``, ``--json`` and the store options on every command, ``--yes``/``--force``
    on changing ones."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(fn)
        fn = click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar="NIJA_DATA_DIR",
            help="Directory holding the state files (default: NIJA_DATA_DIR, else the current directory).",
        )(fn)
        if mutating:
            fn = click.option("--yes", "--force", "yes", is_flag=True, help="Do not ask for confirmation.")(fn)
        return _store_options(fn)

    return decorate


def _store_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--store``, ``--bot`` and ``--fleet``: the PostgreSQL fleet store and its scopes."""
    fn = click.option(
        "--fleet",
        is_flag=True,
        expose_value=False,
        callback=_remember_selection,
        help="The whole fleet (PostgreSQL store): its kill switch, every bot.",
    )(fn)
    fn = click.option(
        "--account",
        metavar="NAME",
        expose_value=False,
        callback=_remember_selection,
        help="An exchange account's kill scope (PostgreSQL store): every bot that trades it.",
    )(fn)
    fn = click.option(
        "--bot",
        envvar="NIJA_BOT",
        metavar="NAME",
        expose_value=False,
        callback=_remember_selection,
        help="One bot of the fleet (PostgreSQL store; default: the fleet).",
    )(fn)
    return click.option(
        "--store",
        "store_url",
        envvar="NIJA_STORE",
        metavar="URL",
        expose_value=False,
        callback=_remember_selection,
        help="postgresql://... to use the fleet database instead of the JSON files (default: NIJA_STORE).",
    )(fn)


def handles_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Turn expected failures into a clear message and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except click.Abort:  # Ctrl-C or Ctrl-D at a prompt: a refusal like answering no
            report_error("DECLINED", "Declined: nothing was done", "", as_json)
            sys.exit(ConfirmationDeclined.exit_code)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - fail reports it (NIJA_DEBUG: raises)
            fail(exc, as_json)

    return wrapper


def confirm(question: str, *, yes: bool) -> None:
    """Ask yes/no on a terminal; refuse (exit 3) when there is nobody to ask."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise ConfirmationDeclined(
            "No terminal to ask for confirmation (standard input is not a TTY); nothing was done",
            "Re-run with --yes to confirm non-interactively",
            code=ErrorCode.NO_TERMINAL,
        )
    try:
        # On stderr, so that --json output stays pure JSON.
        answer = click.prompt(f"{question} [yes/no]", default="no", show_default=False, err=True)
    except click.Abort:
        answer = "no"
    if answer.strip().lower() not in ("y", "yes"):
        raise ConfirmationDeclined("Declined: nothing was done", "", code=ErrorCode.DECLINED)
