"""What an operator should do next, as a stable code each front end puts in its own words.

A refusal or an inconsistency carries a ``FixAction``; its ``fix`` text stays the
command-line words (the guide's spelling). The TUI renders the action as a key, the web
as a button, so nobody on a screen is sent to a shell for what a key or button does.

Command spelling on the command line (one per context): the guide's recovery commands are
spelled as in the guide, ``python safe_restore_trading.py status|restore|reset`` and
``python emergency_kill_switch.py activate|deactivate|history``; commands that exist only
in the ``nija`` CLI (``live``, ``run``, ``serve``, ``report``, ``db``, ``token``, and
anything on the fleet store) are spelled ``nija ...``."""

from __future__ import annotations

from enum import StrEnum


class FixAction(StrEnum):
    STATUS = "STATUS"  # read the diagnosis and repair what it lists
    RESTORE = "RESTORE"  # back to DRY_RUN
    RESET = "RESET"  # to OFF
    KILL_ACTIVATE = "KILL_ACTIVATE"  # record the stop
    KILL_DEACTIVATE = "KILL_DEACTIVATE"  # resolve the cause, then lift the kill
    KILL_DEACTIVATE_REASON = "KILL_DEACTIVATE_REASON"  # deactivate again, saying what was fixed
    LIVE_REQUEST = "LIVE_REQUEST"  # request live trading again
    RESTART_SERVE = "RESTART_SERVE"  # nija serve must be restarted to apply nija.toml


# The guide's spelling, for the command line (and for logs, which are read in a shell).
CLI_COMMAND: dict[FixAction, str] = {
    FixAction.STATUS: "python safe_restore_trading.py status",
    FixAction.RESTORE: "python safe_restore_trading.py restore",
    FixAction.RESET: "python safe_restore_trading.py reset",
    FixAction.KILL_ACTIVATE: 'python emergency_kill_switch.py activate "<reason>"',
    FixAction.KILL_DEACTIVATE: 'python emergency_kill_switch.py deactivate "Issue resolved: <describe fix>"',
    FixAction.KILL_DEACTIVATE_REASON: 'python emergency_kill_switch.py deactivate "Issue resolved: <describe fix>"',
    FixAction.LIVE_REQUEST: "nija live request",
    FixAction.RESTART_SERVE: "nija serve (stop it and start it again)",
}
