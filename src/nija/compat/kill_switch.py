"""The original bot's ``bot/kill_switch.py``, backed by NIJA's latched kill switch.

Same names, signatures and return shapes; NIJA's rules where the original was unsafe
(docs/compat.md): the kill survives restarts, deleting EMERGENCY_STOP deactivates nothing,
a deactivation needs a reason, and no lock is held while the service works (the
original deadlocked when deactivating)."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from nija.compat.auto_trigger import KillSwitchAutoTrigger, get_auto_trigger
from nija.compat.backend import backend_for
from nija.compat.records import kill_event_view
from nija.domain.codes import ErrorCode
from nija.domain.errors import KillSwitchChangeRefused, KillSwitchEngaged, SafetyRefusal
from nija.domain.records import KillAction, KillRecord
from nija.domain.transitions import DEACTIVATE_HINT
from nija.store.json_files import KILL_FILE, KILL_STATE_FILE

logger = logging.getLogger("nija.kill_switch")

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "KillSwitch",
    "KillSwitchAutoTrigger",
    "check_kill_switch",
    "get_auto_trigger",
    "get_kill_switch",
    "require_kill_switch_inactive",
]


class KillSwitch:
    """The global kill switch: a view of NIJA's store, never a private copy of it."""

    KILL_SWITCH_FILE = KILL_FILE
    KILL_SWITCH_STATE_FILE = KILL_STATE_FILE

    def __init__(self, base_path: str | os.PathLike[str] | None = None) -> None:
        """``base_path``: the data directory (default: NIJA_DATA_DIR, else the project root)."""
        self._backend = backend_for(base_path)
        logger.info(
            "Kill switch backed by NIJA at %s (active: %s)", self._backend.service.store.location, self.is_active()
        )

    def activate(self, reason: str, source: str = "MANUAL") -> None:
        """Stop everything now, in every process: raises the kill file, records the kill,
        moves the state to EMERGENCY_STOP. Never raises (a stop must not fail)."""
        try:
            _, status = self._backend.snapshot_and_report()
            recorded = status.kill_record_active is True
        except Exception:  # noqa: BLE001 - cannot tell: record the kill anyway
            recorded = False
        if recorded:
            logger.warning("Kill switch already active; not recorded again: %s", reason)
            return
        if self._backend.activate_kill(reason, source):
            logger.critical("KILL SWITCH ACTIVATED: ALL TRADING HALTED (reason: %s, source: %s)", reason, source)
        else:
            logger.critical("KILL SWITCH: this process is halted; see above whether the others see the kill")

    def deactivate(self, reason: str = "") -> None:
        """Deactivate, with a reason saying what was fixed (required while a kill is in force).
        The state goes to OFF, never to trading: run ``safe_restore_trading.py restore`` next."""
        text = reason.strip()
        if not text:
            if not self.is_active():
                logger.info("Kill switch already inactive")
                return
            raise KillSwitchChangeRefused(
                "Deactivating the kill switch needs a reason; the kill switch IS STILL ACTIVE",
                f"Say what was fixed: deactivate('Issue resolved: <describe fix>') or {DEACTIVATE_HINT}",
                code=ErrorCode.REASON_REQUIRED,
            )
        backend = self._backend
        try:
            outcome = backend.change(lambda: backend.service.deactivate_kill(text, backend.who()))
        except SafetyRefusal as exc:
            raise KillSwitchChangeRefused(exc.message, exc.fix, code=exc.code) from exc
        backend.local_kill = None
        if outcome.kill_active:
            logger.warning("Kill switch deactivation recorded but a kill is still in force")
        else:
            logger.warning("KILL SWITCH DEACTIVATED (%s): state is OFF; use safe_restore_trading.py restore", text)

    def is_active(self) -> bool:
        """Read on every call (the kill file first): a kill from anywhere is seen at once."""
        return self._backend.kill_active()

    def assert_not_active(self, operation: str = "operation") -> None:
        """Raise KillSwitchEngaged (a RuntimeError, as the original) if the kill is in force."""
        if self.is_active():
            message = f"Cannot perform {operation}: KILL SWITCH IS ACTIVE"
            logger.error(message)
            raise KillSwitchEngaged(message, f"Investigate, fix the cause, then run: {DEACTIVATE_HINT}")

    def get_status(self) -> dict[str, Any]:
        """The original's keys (is_active, kill_file_exists, kill_file_path, recent_history)
        plus NIJA's view: trading_state, can_trade, inconsistencies, store."""
        snapshot, status = self._backend.snapshot_and_report()
        history = snapshot.kill.history if isinstance(snapshot.kill, KillRecord) else ()
        active = status.kill_active or self._backend.local_kill is not None
        return {
            "is_active": active,
            "kill_file_exists": status.kill_file_exists,
            "kill_file_path": self._backend.kill_file_path,
            "recent_history": [kill_event_view(e) for e in history[-5:]],
            "trading_state": str(status.state),
            "can_trade": status.can_trade and not active,
            "inconsistencies": [i.code for i in status.inconsistencies],
            "store": self._backend.service.store.location,
        }

    def get_activation_count(self) -> int:
        """How many activations the history holds (legacy entries: those with a source)."""
        kill = self._backend.service.snapshot().kill
        if not isinstance(kill, KillRecord):
            return 0
        return sum(
            1 for e in kill.history if e.action is KillAction.ACTIVATE or (e.action is None and e.source != "unknown")
        )


_kill_switch: KillSwitch | None = None
_instance_lock = threading.Lock()


def get_kill_switch() -> KillSwitch:
    """The process's kill switch on the default data directory (singleton)."""
    global _kill_switch
    with _instance_lock:
        if _kill_switch is None:
            _kill_switch = KillSwitch()
        return _kill_switch


def check_kill_switch() -> None:
    """Raise KillSwitchEngaged (a RuntimeError) if the kill switch is active."""
    get_kill_switch().assert_not_active()


def require_kill_switch_inactive(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: refuse to run ``func`` while the kill switch is active."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        check_kill_switch()
        return func(*args, **kwargs)

    return wrapper
