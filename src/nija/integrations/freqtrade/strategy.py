"""Ask NIJA before freqtrade enters a trade: mix ``NijaEntryGuard`` into a strategy.

    class MyStrategy(NijaEntryGuard, IStrategy):
        ...

freqtrade calls ``confirm_trade_entry`` right before it places every entry order (its
documented callback); returning False skips the entry. The answer is NIJA's permission
check at that moment, so entries stop the instant a kill is raised, without waiting for
freqtrade's loop or the bridge. Exits are never blocked: they reduce risk.

A freqtrade in dry-run may enter while NIJA allows trading at all (DRY_RUN or
LIVE_ACTIVE); a freqtrade trading live (``dry_run: false``) only in a LIVE_ACTIVE that
the running bridge verified, and only while that bridge is alive. Only the standard
library and NIJA's file store are imported, so ``pip install --no-deps nija`` into
freqtrade's environment is enough. The data directory is ``nija_data_dir`` on the
strategy, else NIJA_DATA_DIR, else the current directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nija.domain.diagnosis import HEARTBEAT_MAX_AGE
from nija.domain.permission import Permission
from nija.domain.records import Heartbeat
from nija.domain.states import Mode
from nija.store.json_files import JsonFileStore
from nija.store.ports import PermissionView

log = logging.getLogger("nija.freqtrade")


def entry_permission(view: PermissionView, *, dry_run: bool, bridge: Callable[[], Heartbeat | None]) -> Permission:
    """NIJA's answer for one freqtrade entry; any failure to ask denies. A live entry also
    needs the bridge alive: it is the run that verified the confirmation, and the process
    that stops freqtrade's open orders on a kill."""
    try:
        permission = view.check()
        if not permission.allowed or dry_run:
            return permission
        if permission.mode is not Mode.LIVE:
            return Permission(
                False, None, "FREQTRADE_LIVE_NOT_ALLOWED", f"freqtrade trades live but NIJA is {permission.code}"
            )
        beat = bridge()
        if beat is None or not beat.is_alive(datetime.now(UTC), HEARTBEAT_MAX_AGE):
            return Permission(
                False, None, "BRIDGE_NOT_RUNNING", "no live 'nija bridge freqtrade' is following NIJA for this bot"
            )
        return permission
    except Exception as exc:  # noqa: BLE001 - the question failed: the entry is refused
        return Permission(False, None, "CHECK_FAILED", f"the permission check failed: {exc}")


class NijaEntryGuard:
    nija_data_dir: str | None = None
    config: dict[str, Any]
    _nija_view: PermissionView | None = None
    _nija_store: JsonFileStore | None = None

    def _nija(self) -> tuple[PermissionView, JsonFileStore]:
        if self._nija_store is None or self._nija_view is None:
            directory = self.nija_data_dir or os.environ.get("NIJA_DATA_DIR") or "."
            self._nija_store = JsonFileStore(Path(directory))
            self._nija_view = self._nija_store.permission_view()
        return self._nija_view, self._nija_store

    def confirm_trade_entry(self, pair: str, *args: Any, **kwargs: Any) -> bool:
        view, store = self._nija()
        permission = entry_permission(
            view, dry_run=bool(self.config.get("dry_run", True)), bridge=lambda: store.load().heartbeat
        )
        if not permission.allowed:
            log.warning("NIJA refused the entry for %s (%s): %s", pair, permission.code, permission.reason)
            return False
        parent = getattr(super(), "confirm_trade_entry", None)
        return bool(parent(pair, *args, **kwargs)) if parent is not None else True
