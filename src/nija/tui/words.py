"""The control center's words for a fix: the key that does it on this screen.

The domain gives each refusal and inconsistency a ``FixAction``; the command line shows
the domain's own fix text, the web names a button, and this screen names a key. Fixes no
key performs (a live request) say where it is done instead."""

from __future__ import annotations

from nija.domain.actions import FixAction

KEY_FOR: dict[FixAction, str] = {
    FixAction.STATUS: "repair what the Status panel lists (its keys: d, r, x)",
    FixAction.RESTORE: "press r (restore to DRY_RUN)",
    FixAction.RESET: "press x (reset to OFF), then r (restore to DRY_RUN)",
    FixAction.KILL_ACTIVATE: "press k (activate the kill switch) to record the stop",
    FixAction.KILL_DEACTIVATE: "find the cause (h: history), resolve it, then press d (deactivate the kill switch)",
    FixAction.KILL_DEACTIVATE_REASON: "press d again and type what was fixed",
    FixAction.LIVE_REQUEST: "request live trading on the web control center or with 'nija live request'",
    FixAction.RESTART_SERVE: "restart 'nija serve' on its host",
}


def fix_here(action: FixAction | str | None, fallback: str) -> str:
    """The fix in this screen's terms, or the domain's words when no key does it."""
    try:
        return KEY_FOR[FixAction(action)] if action else fallback
    except ValueError:  # a newer server's code: its own words are the best there are
        return fallback
