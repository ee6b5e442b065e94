"""What a command invocation opens: the store it names and the service over it, with an
unrecorded kill file adopted first. No click here, so that ``nija.cli.plain`` can serve a
plain ``status`` or ``kill activate`` without loading it; the click commands use the same."""

from __future__ import annotations

import sys
from pathlib import Path

from nija.assembly import build_service
from nija.cli.reporting import warn
from nija.domain.transitions import Who
from nija.identity import local_who
from nija.service import SafetyService
from nija.store.selection import StoreSelection

SELECTION_KEY = "nija.store_selection"  # where the click options leave --store/--bot/--fleet/--account


def command_service(data_dir: Path | None, *, strict_config: bool = False) -> SafetyService:
    """The service of the store the command names, an unrecorded kill file adopted first.
    Diagnosis and recovery carry on past a bad nija.toml (with a warning); the commands
    whose behaviour the settings change (live) pass ``strict_config`` and refuse it."""
    warning = None if strict_config else warn
    return adopting(build_service(data_dir, selection=current_selection(), config_warning=warning))


def adopting(service: SafetyService) -> SafetyService:
    """Record an unrecorded kill file at once, whatever the command (status included):
    after any NIJA command has seen it, deleting the file deactivates nothing."""
    problem = service.adopt_quietly(cli_who())
    if problem is not None:
        from nija import kill_truth

        warn(kill_truth.unrecorded_flag(problem))
    return service


def current_selection() -> StoreSelection:
    """The ``--store``/``--bot``/``--fleet``/``--account`` of the running command, else
    NIJA_STORE/NIJA_BOT. Without click loaded no command context exists (``nija.cli.plain``
    runs only when none of those options was given), so the environment decides."""
    click = sys.modules.get("click")
    ctx = click.get_current_context(silent=True) if click is not None else None
    chosen = ctx.meta.get(SELECTION_KEY) if ctx is not None else None
    return chosen if isinstance(chosen, StoreSelection) else StoreSelection.from_env()


def cli_who() -> Who:
    return local_who("cli")
