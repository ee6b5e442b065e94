"""Small helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float], unit: str, scale: float = 1.0) -> str:
    return (
        f"median {statistics.median(samples) * scale:.2f} {unit}, "
        f"p99 {percentile(samples, 0.99) * scale:.2f} {unit}, n={len(samples)}"
    )


def per_call(fn: Callable[[], object], rounds: int, batch: int) -> list[float]:
    """Seconds per call of ``fn``, one sample per batch (timer overhead spread over it)."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return samples
