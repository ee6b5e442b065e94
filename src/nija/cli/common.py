"""What every command shares: options, the service, prompts, and error handling that
maps the exception tree onto exit codes without a traceback."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from nija import kill_truth
from nija.assembly import build_service
from nija.domain.codes import ErrorCode
from nija.domain.errors import ConfirmationDeclined, NijaError
from nija.domain.text import json_for_terminal, printable
from nija.domain.transitions import Who
from nija.identity import local_who
from nija.service import SafetyService
from nija.store.selection import StoreSelection

P = ParamSpec("P")
T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 done (or nothing to do), 1 unexpected error, 2 usage, 3 refused by a "
    "safety rule, 4 storage problem, 5 inconsistencies found (status only)."
)


@dataclass(frozen=True)
class Invocation:
    data_dir: Path | None
    as_json: bool
    yes: bool
    # Diagnosis and recovery carry on past a bad nija.toml (with a warning); commands whose
    # behaviour the settings change (live) refuse it.
    strict_config: bool = False

    def service(self) -> SafetyService:
        warn = None if self.strict_config else warn_config
        return adopting(build_service(self.data_dir, selection=current_selection(), config_warning=warn))


def warn_config(message: str) -> None:
    click.echo(f"⚠️ Warning: {message}", err=True)


def adopting(service: SafetyService) -> SafetyService:
    """Record an unrecorded kill file at once, whatever the command (status included):
    after any NIJA command has seen it, deleting the file deactivates nothing."""
    problem = service.adopt_quietly(cli_who())
    if problem is not None:
        click.echo(f"⚠️ Warning: {kill_truth.unrecorded_flag(problem)}", err=True)
    return service


_SELECTION_KEY = "nija.store_selection"


def current_selection() -> StoreSelection:
    """The ``--store``/``--bot``/``--fleet`` of the running command (NIJA_STORE/NIJA_BOT otherwise)."""
    ctx = click.get_current_context(silent=True)
    chosen = ctx.meta.get(_SELECTION_KEY) if ctx is not None else None
    return chosen if isinstance(chosen, StoreSelection) else StoreSelection.from_env()


def _remember_selection(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Collect the store options in the context, so command signatures stay unchanged."""
    chosen = ctx.meta.get(_SELECTION_KEY, StoreSelection())
    if param.name == "store_url" and value:
        chosen = StoreSelection(value, chosen.bot, chosen.fleet, chosen.account)
    elif param.name == "bot" and value:
        chosen = StoreSelection(chosen.url, value, chosen.fleet, chosen.account)
    elif param.name == "fleet" and value:
        chosen = StoreSelection(chosen.url, chosen.bot, True, chosen.account)
    elif param.name == "account" and value:
        chosen = StoreSelection(chosen.url, chosen.bot, chosen.fleet, value)
    ctx.meta[_SELECTION_KEY] = chosen
    return value


def cli_who() -> Who:
    return local_who("cli")


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
        except NijaError as exc:
            _report_error(exc.code, exc.message, exc.fix, as_json)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except click.Abort:  # Ctrl-C or Ctrl-D at a prompt: a refusal like answering no
            _report_error("DECLINED", "Declined: nothing was done", "", as_json)
            sys.exit(ConfirmationDeclined.exit_code)
        except KeyboardInterrupt:
            _report_error("INTERRUPTED", "Interrupted", "", as_json)
            sys.exit(ConfirmationDeclined.exit_code)
        except Exception as exc:
            if os.environ.get("NIJA_DEBUG"):
                raise
            _report_error(
                "UNEXPECTED",
                f"Unexpected error: {type(exc).__name__}: {exc}",
                "Set NIJA_DEBUG=1 to see the traceback and report it",
                as_json,
            )
            sys.exit(NijaError.exit_code)

    return wrapper


def _report_error(code: str, message: str, fix: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": {"code": code, "message": message, "fix": fix}}, indent=2))
        return
    # Messages may quote stored or typed text: never let it reach the terminal raw.
    click.echo(f"❌ {printable(message, multi_line=True)}", err=True)
    if fix:
        click.echo(f"💡 Fix: {printable(fix, multi_line=True)}", err=True)


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


def warn_listener_errors(service: SafetyService) -> None:
    """Say on stderr what the audit, notification or metrics listeners failed to do.
    The action itself is done; these never block it, but must never fail silently."""
    for error in service.listener_errors:
        click.echo(f"⚠️ Warning: the action was done, but {printable(error, multi_line=True)}", err=True)


def print_json(data: Any) -> None:
    """JSON as ever (UTF-8, the same values), with every control character escaped."""
    click.echo(json_for_terminal(json.dumps(data, indent=2, ensure_ascii=False)))
