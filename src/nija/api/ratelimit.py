"""Failed-authentication limit per client address: a sliding window of failure times.

The table is bounded twice: each address keeps at most ``limit`` failure times (all the
window needs), and at most ``max_clients`` addresses are kept, the least recently failing
forgotten first, so a flood from many addresses cannot grow the server's memory."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

DEFAULT_MAX_CLIENTS = 10_000


class FailureLimiter:
    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_clients: int = DEFAULT_MAX_CLIENTS,
    ) -> None:
        self.limit, self.window_s, self.clock, self.max_clients = limit, window_s, clock, max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()  # least recent failure first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)

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
            self._failures.move_to_end(client)
            self._forget_old()

    def _recent(self, client: str) -> deque[float]:
        times = self._failures.get(client)
        if times is None:
            return deque(maxlen=self.limit)
        horizon = self.clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:  # clients without recent failures are forgotten
            del self._failures[client]
        return times

    def _forget_old(self) -> None:
        horizon = self.clock() - self.window_s
        while self._failures:
            oldest_client, oldest = next(iter(self._failures.items()))
            if len(self._failures) <= self.max_clients and oldest and oldest[-1] > horizon:
                break
            del self._failures[oldest_client]
