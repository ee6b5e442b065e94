"""Ask NIJA before freqtrade enters a trade: mix ``NijaEntryGuard`` into a strategy.

    class MyStrategy(NijaEntryGuard, IStrategy):
        ...

freqtrade calls ``confirm_trade_entry`` right before it places every entry order (its
documented callback); returning False skips the entry. The answer is NIJA's permission
check at that moment, so entries stop the instant a kill is raised, without waiting for
freqtrade's loop or the bridge. Exits are never blocked: they reduce risk.

A freqtrade in dry-run may enter while NIJA allows trading at all (DRY_RUN or
LIVE_ACTIVE); a freqtrade trading live (``dry_run: false``) only in a verified
LIVE_ACTIVE. Only the standard library and NIJA's file store are imported, so ``pip
install --no-deps nija`` into freqtrade's environment is enough. The data directory is
``nija_data_dir`` on the strategy, else NIJA_DATA_DIR, else the current directory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.store.json_files import JsonFileStore
from nija.store.ports import PermissionView

log = logging.getLogger("nija.freqtrade")


def entry_permission(view: PermissionView, *, dry_run: bool) -> Permission:
    """NIJA's answer for one freqtrade entry; any failure to ask denies."""
    try:
        permission = view.check()
    except Exception as exc:  # noqa: BLE001 - the question failed: the entry is refused
        return Permission(False, None, "CHECK_FAILED", f"the permission check failed: {exc}")
    if not permission.allowed:
        return permission
    if not dry_run and permission.mode is not Mode.LIVE:
        return Permission(
            False, None, "FREQTRADE_LIVE_NOT_ALLOWED", f"freqtrade trades live but NIJA is {permission.code}"
        )
    return permission


class NijaEntryGuard:
    nija_data_dir: str | None = None
    config: dict[str, Any]
    _nija_view: PermissionView | None = None

    def _nija(self) -> PermissionView:
        if self._nija_view is None:
            directory = self.nija_data_dir or os.environ.get("NIJA_DATA_DIR") or "."
            self._nija_view = JsonFileStore(Path(directory)).permission_view()
        return self._nija_view

    def confirm_trade_entry(self, pair: str, *args: Any, **kwargs: Any) -> bool:
        permission = entry_permission(self._nija(), dry_run=bool(self.config.get("dry_run", True)))
        if not permission.allowed:
            log.warning("NIJA refused the entry for %s (%s): %s", pair, permission.code, permission.reason)
            return False
        parent = getattr(super(), "confirm_trade_entry", None)
        return bool(parent(pair, *args, **kwargs)) if parent is not None else True
