"""How a command reports what went wrong or what it could not do: the message, the fix and
the documented exit code, without a traceback. No click here: the fast paths of ``status``
and ``kill activate`` (``nija.cli.plain``) report exactly as the click commands do."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from nija.cli.output import echo
from nija.domain.errors import ConfirmationDeclined, NijaError
from nija.domain.text import printable

if TYPE_CHECKING:
    from nija.service import SafetyService


def fail(exc: BaseException, as_json: bool) -> NoReturn:
    """Report ``exc`` (a NijaError, Ctrl-C or anything unexpected) and exit with its code."""
    if isinstance(exc, NijaError):
        report_error(exc.code, exc.message, exc.fix, as_json)
        sys.exit(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        report_error("INTERRUPTED", "Interrupted", "", as_json)
        sys.exit(ConfirmationDeclined.exit_code)
    if os.environ.get("NIJA_DEBUG") or not isinstance(exc, Exception):
        raise exc
    report_error(
        "UNEXPECTED",
        f"Unexpected error: {type(exc).__name__}: {exc}",
        "Set NIJA_DEBUG=1 to see the traceback and report it",
        as_json,
    )
    sys.exit(NijaError.exit_code)


def report_error(code: str, message: str, fix: str, as_json: bool) -> None:
    if as_json:
        echo(json.dumps({"error": {"code": code, "message": message, "fix": fix}}, indent=2))
        return
    # Messages may quote stored or typed text: never let it reach the terminal raw.
    echo(f"❌ {printable(message, multi_line=True)}", err=True)
    if fix:
        echo(f"💡 Fix: {printable(fix, multi_line=True)}", err=True)


def warn(message: str) -> None:
    """A warning on stderr (``message`` made printable here)."""
    echo(f"⚠️ Warning: {printable(message, multi_line=True)}", err=True)


def warn_listener_errors(service: SafetyService) -> None:
    """Say on stderr what the audit, notification or metrics listeners failed to do.
    The action itself is done; these never block it, but must never fail silently."""
    for error in service.listener_errors:
        warn(f"the action was done, but {error}")
