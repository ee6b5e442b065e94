"""Status requests per second against a real ``nija serve`` from a second process on
loopback, with latency percentiles (sequential, then several concurrent clients).

    python benchmarks/api_status_throughput.py [--seconds 5] [--clients 4]"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _stats import percentile
from tests.serving import make_token, serving


def hammer(base: str, token: str, seconds: float, out: list[float]) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            response = client.get("/api/status")
            out.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(f"unexpected {response.status_code}: {response.text}")


def run(base: str, token: str, seconds: float, clients: int) -> None:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    threads = [threading.Thread(target=hammer, args=(base, token, seconds, latencies[i])) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    every = [x for per in latencies for x in per]
    print(
        f"{clients} client(s): {len(every) / elapsed:8.0f} status req/s   "
        f"p50 {statistics.median(every) * 1000:6.2f} ms   p99 {percentile(every, 0.99) * 1000:6.2f} ms   "
        f"max {max(every) * 1000:6.2f} ms   ({len(every)} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        token = make_token(data_dir, "bench", "viewer")
        with serving(data_dir) as base:
            run(base, token, 1.0, 1)  # warm-up
            print("GET /api/status over loopback (server: nija serve, one uvicorn worker)")
            run(base, token, args.seconds, 1)
            run(base, token, args.seconds, args.clients)


if __name__ == "__main__":
    main()
