"""Failed-authentication limit per client address: a sliding window of failure times."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class FailureLimiter:
    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again (0 when it may try now)."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.limit:
                return 0.0
            return max(0.0, times[0] + self.window_s - self.clock())

    def fail(self, client: str) -> None:
        with self._lock:
            times = self._recent(client)
            times.append(self.clock())
            self._failures[client] = times

    def _recent(self, client: str) -> deque[float]:
        times = self._failures.pop(client, deque())
        horizon = self.clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if times:  # clients without recent failures are forgotten: memory stays bounded
            self._failures[client] = times
        return times
