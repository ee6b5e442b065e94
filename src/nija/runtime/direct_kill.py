"""A kill held in the bot's memory, for when it could not be written to disk.

The kill channel delivers it; from then on every permission check of this process
denies, exactly like a kill on disk. The bot keeps trying to record it (a disk that is
full now may have room later); once it is recorded the disk's latched kill takes over."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from nija.domain.permission import Permission
from nija.domain.transitions import Who
from nija.store.ports import PermissionView

RECORD_RETRY_S = 1.0  # a full disk may have room a moment later: try again, not in a loop


class DirectKill:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None
        self.actor = "unknown"
        self.source = "unknown"
        self.recorded = True  # nothing to record until a direct kill arrives
        self._next_try = 0.0
        self._recording = False  # an attempt is under way (in another thread, maybe)

    def latch(self, reason: str, actor: str, source: str) -> None:
        with self._lock:
            if self.reason is None:  # the first kill's cause stays
                self.reason, self.actor, self.source = reason, actor, source
            self.recorded = False

    def release(self) -> None:
        """Once the kill is recorded on disk: the disk's latch holds it from now on."""
        with self._lock:
            self.reason = None
            self.recorded = True

    @property
    def active(self) -> bool:
        return self.reason is not None

    def try_record(self, activate: Callable[[str, Who], object]) -> bool:
        """Try to write the held kill to disk with ``activate`` (at most every
        ``RECORD_RETRY_S``, one attempt at a time: several threads may ask); True once
        written: the disk's latch holds it from then on."""
        with self._lock:
            if self.recorded or self.reason is None or self._recording or time.monotonic() < self._next_try:
                return False
            self._recording = True
            reason, who = self.reason, Who(self.actor, self.source)
        written = False
        try:
            activate(reason, who)
            written = True
        except Exception:  # noqa: BLE001 - any failure: the kill stays held in memory, retried later
            written = False
        finally:
            with self._lock:
                self._recording = False
                self._next_try = time.monotonic() + RECORD_RETRY_S  # from the end of this attempt
                if written:
                    self.reason = None
                    self.recorded = True
        return written


class LatchedView:
    """A permission view that denies while a direct kill is held, whatever the disk says."""

    def __init__(self, inner: PermissionView, kill: DirectKill) -> None:
        self._inner = inner
        self._kill = kill

    def check(self) -> Permission:
        reason = self._kill.reason
        if reason is not None:
            return Permission(
                False,
                None,
                "KILL_SWITCH_ACTIVE",
                f"a kill sent directly (not on disk: it could not be written): {reason}",
            )
        return self._inner.check()

    def __getattr__(self, name: str) -> object:
        # The store's own view may offer more (wait_confirmed, close on PostgreSQL).
        return getattr(self._inner, name)
