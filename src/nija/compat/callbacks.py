"""State callbacks (the original's ``register_callback``), fired once per change observed.

Readings race: a thread that began reading before a change may report the old state
after another thread reported the new one. Every reading therefore takes a ticket when it
starts, and only a reading that started after the last accepted one counts, so a stale
reading never "changes" the state back and fires callbacks twice."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

from nija.domain.states import TradingState
from nija.service import Outcome

logger = logging.getLogger("nija.trading_state_machine")

Callback = Callable[[], object]


class StateObserver:
    def __init__(self) -> None:
        self._callbacks: dict[TradingState, list[Callback]] = {s: [] for s in TradingState}
        self._tickets = itertools.count(1)
        self._state: TradingState | None = None
        self._ticket = 0
        self._lock = threading.Lock()

    def register(self, state: TradingState, callback: Callback) -> None:
        with self._lock:
            self._callbacks[state].append(callback)

    def ticket(self) -> int:
        """Take before reading (or changing): orders the readings by when they began."""
        with self._lock:
            return next(self._tickets)

    def observe(self, state: TradingState, ticket: int) -> None:
        """A reading that began at ``ticket``: fire ``state``'s callbacks if it is a change."""
        with self._lock:
            if ticket <= self._ticket:
                return  # a reading older than one already counted
            previous, self._state, self._ticket = self._state, state, ticket
        if previous is not None and previous is not state:
            self._fire(state)

    def observe_change(self, outcome: Outcome, started: int) -> None:
        """This process's own change, begun at ``started``: fire every state it entered at
        once, unless a reading begun since has already reported (and fired) its result."""
        finished = self.ticket()
        final = TradingState.EMERGENCY_STOP if outcome.kill_active else outcome.after
        with self._lock:
            already_fired = self._ticket > started and self._state is final
            if finished > self._ticket:
                self._state, self._ticket = final, finished
        if not already_fired:
            for transition in outcome.transitions:
                self._fire(transition.to_state)

    def _fire(self, state: TradingState) -> None:
        with self._lock:
            callbacks = list(self._callbacks[state])
        for callback in callbacks:
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 - as the original: a callback never stops a change
                logger.error("State callback for %s failed: %s", state, exc)
