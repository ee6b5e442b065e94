"""The console entry points. ``activate`` raises the kill file (``nija.emergency``) before
the command-line tools are imported; everything else goes straight to ``cli.main``."""

from __future__ import annotations

import sys


def nija(prog_name: str | None = None) -> None:
    if sys.argv[1:3] == ["kill", "activate"]:
        from nija import emergency

        emergency.raise_first(sys.argv[3:])
    from nija.cli.main import nija as group

    group(prog_name=prog_name)


def emergency_kill_switch(prog_name: str | None = None) -> None:
    if sys.argv[1:2] == ["activate"]:
        from nija import emergency

        emergency.raise_first(sys.argv[2:])
    from nija.cli.main import emergency_kill_switch as group

    group(prog_name=prog_name)


def safe_restore_trading(prog_name: str | None = None) -> None:
    from nija.cli.main import safe_restore_trading as group

    group(prog_name=prog_name)
