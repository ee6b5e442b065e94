"""The two commands that must start fast, served without click: a plain ``status``, and
the record of a plain ``kill activate`` once ``nija.emergency`` has raised the kill file.

Plain means only ``--data-dir`` and ``--json`` (for an activation also ``--yes``/
``--force`` and a reason of printable ASCII) and no store chosen by the environment
(NIJA_STORE, NIJA_BOT). Anything else (``--help``, another option, a data directory click
would refuse) returns here without a word, and click then parses, refuses or runs it
exactly as it always did. Either way the same functions do the work (``show_status``,
``kill_activation``) and report failures the same way (``reporting.fail``); a reader that
went away (EPIPE) ends the command as click's own main does: exit 1, nothing more said."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nija.emergency import PlainActivation


def status(args: list[str]) -> None:
    """``args``: what follows ``status``. Exits when it is plain; else returns."""
    parsed = _status_args(args)
    if parsed is None:
        return
    data_dir, as_json = parsed

    def show() -> int:
        from nija.cli.show_status import show_status

        return show_status(data_dir, as_json)

    _serve(show, as_json)


def activate(parsed: PlainActivation) -> None:
    """Record and show the plain activation ``emergency.raise_first`` read (and raised); exits."""
    from nija import emergency

    data_dir = Path(parsed.data_dir) if parsed.data_dir is not None else None
    recorded = False

    def record_and_show() -> int:
        nonlocal recorded
        from nija.cli import kill_activation

        service, result = kill_activation.record(parsed.text, data_dir)
        recorded = True
        kill_activation.show(service, result, parsed.as_json)
        return 0

    def truth(exc: BaseException) -> None:
        """Before the report of an error the service's own messages do not cover."""
        from nija.domain.errors import NijaError

        if recorded or isinstance(exc, NijaError) or emergency.raised(parsed.directory, parsed.text) is None:
            return
        from nija.cli.output import echo

        echo(
            "⚠️ EMERGENCY_STOP was raised before this error, so the kill IS IN FORCE, but it is not "
            "recorded yet: fix the error and run the activation again (any NIJA command records it)",
            err=True,
        )

    _serve(record_and_show, parsed.as_json, before_report=truth)


def _serve(
    command: Callable[[], int], as_json: bool, *, before_report: Callable[[BaseException], None] | None = None
) -> None:
    from nija.cli.reporting import fail

    try:
        try:
            code = command()
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - fail reports it (NIJA_DEBUG: raises)
            if before_report is not None:
                before_report(exc)
            fail(exc, as_json)
    except BrokenPipeError:  # the report itself met the closed pipe (--json: on stdout)
        _quiet_broken_pipe()
        sys.exit(1)
    sys.exit(code)


def _quiet_broken_pipe() -> None:
    """As click's main on EPIPE: nothing more reaches the reader that left, and the flush at
    exit does not fail again (Python's documented way: devnull over the standard streams)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, OSError, ValueError):
            continue  # not a real file (a test's capture): nothing to quiet
    os.close(devnull)


def _status_args(args: list[str]) -> tuple[Path | None, bool] | None:
    """(``--data-dir`` as click would pass it, ``--json``), or None: not plain."""
    from nija.emergency import plain_options

    options = plain_options(args, frozenset({"--json"}))
    if options is None or options.words:
        return None
    return (Path(options.data_dir) if options.data_dir is not None else None), options.as_json
