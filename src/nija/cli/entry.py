"""The console entry points. ``activate`` raises the kill file (``nija.emergency``) before
the command-line tools are imported; a plain ``status`` and the rest of a plain activation
run without click (``nija.cli.plain``); everything else goes straight to ``cli.main``."""

from __future__ import annotations

import gc
import sys

# What follows each program's name for the two fast paths.
ACTIVATE = {"nija": ["kill", "activate"], "emergency_kill_switch": ["activate"]}
STATUS = {"nija": ["status"], "safe_restore_trading": ["status"]}


def fast_path(program: str, args: list[str]) -> None:
    """Serve a plain ``kill activate`` or ``status`` of ``program`` without click: exits
    when it did. Returns when ``args`` are anything else, for click to run.

    No cyclic garbage collection meanwhile: while the modules load it would run some 25
    passes (a twentieth of the start) over objects that live until the exit anyway. It is
    back on if the command is not a fast one after all."""
    activate, status = ACTIVATE.get(program), STATUS.get(program)
    if activate is not None and args[: len(activate)] == activate:
        from nija import emergency

        parsed = emergency.raise_first(args[len(activate) :])  # first: before anything else loads
        if parsed is None:
            return
        rest: list[str] = []
    elif status is not None and args[: len(status)] == status:
        parsed, rest = None, args[len(status) :]
    else:
        return
    gc.disable()
    try:
        from nija.cli import plain

        if parsed is not None:
            plain.activate(parsed)
        else:
            plain.status(rest)
    finally:
        gc.enable()


def nija(prog_name: str | None = None) -> None:
    _fast_then_exit("nija")
    from nija.cli.main import nija as group

    group(prog_name=prog_name)


def emergency_kill_switch(prog_name: str | None = None) -> None:
    _fast_then_exit("emergency_kill_switch")
    from nija.cli.main import emergency_kill_switch as group

    group(prog_name=prog_name)


def safe_restore_trading(prog_name: str | None = None) -> None:
    _fast_then_exit("safe_restore_trading")
    from nija.cli.main import safe_restore_trading as group

    group(prog_name=prog_name)


def _fast_then_exit(program: str) -> None:
    """The fast path of this process's command line. When it served the command, the
    process exits now: the objects it loaded are frozen out of the collector's last pass,
    which would otherwise walk every one of them (up to a fifth of the command's time on a
    busy machine) to free memory the exit returns anyway. Files are unaffected: every file
    NIJA writes is closed (and synced) before the command returns."""
    try:
        fast_path(program, sys.argv[1:])
    except SystemExit:
        gc.freeze()
        raise
