"""Sliding time windows for the throttles and the breaker: counts of events in the last
``span`` seconds. Pure: the caller passes the time. Old entries are dropped as time
moves, so memory is bounded by what the window can hold."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable


class Window:
    """Events in ``(now - span, now]``."""

    __slots__ = ("_times", "span")

    def __init__(self, span: float) -> None:
        self.span = span
        self._times: deque[float] = deque()

    def count(self, now: float) -> int:
        times, edge = self._times, now - self.span
        while times and times[0] <= edge:
            times.popleft()
        return len(times)

    def add(self, now: float) -> None:
        self._times.append(now)


class KeyedWindow:
    """Events per key in ``(now - span, now]`` (the duplicate filter's identical orders)."""

    __slots__ = ("_counts", "_times", "span")

    def __init__(self, span: float) -> None:
        self.span = span
        self._times: deque[tuple[float, Hashable]] = deque()
        self._counts: dict[Hashable, int] = {}

    def count(self, key: Hashable, now: float) -> int:
        times, counts, edge = self._times, self._counts, now - self.span
        while times and times[0][0] <= edge:
            _, old = times.popleft()
            left = counts[old] - 1
            if left:
                counts[old] = left
            else:
                del counts[old]
        return counts.get(key, 0)

    def add(self, key: Hashable, now: float) -> None:
        self._times.append((now, key))
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
