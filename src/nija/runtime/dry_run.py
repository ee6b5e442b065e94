"""How long this run has actually been running in DRY_RUN, counted from its own ticks.

The live request's minimum DRY_RUN period is this figure, published in the heartbeat:
wall-clock time since a transition says nothing about whether a bot ran meanwhile."""

from __future__ import annotations

from nija.domain.permission import PermissionCode

# Between two ticks (every 0.25 s) at most this much is counted: a process that was
# suspended or starved was not testing anything meanwhile.
MAX_STEP_S = 1.0
# Still the same DRY_RUN period: a pending request is cancelled or expires back to it,
# and a read that failed or a view not yet confirmed says nothing about the state.
_HOLD = frozenset({"STATE_LIVE_PENDING_CONFIRMATION", "CHECK_FAILED", "VIEW_STALE", "NOT_CHECKED"})


class DryRunClock:
    def __init__(self) -> None:
        self.seconds = 0.0
        self._code = ""
        self._last: float | None = None

    def saw(self, code: str) -> None:
        """The permission code the bot's watcher just got. Anything but DRY_RUN (or a
        hold) ends the period: after a kill, OFF or live, DRY_RUN testing starts over."""
        if code != PermissionCode.DRY_RUN and code not in _HOLD:
            self.seconds = 0.0
        self._code = code

    def tick(self, now: float) -> None:
        if self._last is not None and self._code == PermissionCode.DRY_RUN:
            self.seconds += min(max(now - self._last, 0.0), MAX_STEP_S)
        self._last = now
