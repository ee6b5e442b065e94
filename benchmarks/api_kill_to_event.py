"""Time from a kill switch activated by the CLI (another process) to the status event
arriving at a client connected to ``GET /api/events`` of a real ``nija serve``, on the
JSON files and on the PostgreSQL fleet store, in one run (target: PostgreSQL within 2x
of the files).

Two figures per round: from the kill's recorded timestamp (the write) to the event, and
from the CLI's start (including Python's start-up) to the event.

    python benchmarks/api_kill_to_event.py [--rounds 30]"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serving import child_env, make_token, serving


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def listen(
    base: str, token: str, arrivals: queue.Queue[tuple[float, dict[str, object]]], stop: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.stream("GET", base + "/api/events", headers=headers, timeout=None) as r:  # noqa: S113 - an endless stream
            event = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "status":
                    arrivals.put((time.time(), json.loads(line[5:])))
    except httpx.TransportError:
        if not stop.is_set():  # the server going away at the end is expected
            raise


def nija(data_dir: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nija", *args, "--data-dir", str(data_dir)],
        env=child_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"nija {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")


def measure(rounds: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    from_write: list[float] = []
    from_cli: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        token = make_token(data_dir, "bench", "viewer")
        with serving(data_dir, env=env) as base:
            arrivals: queue.Queue[tuple[float, dict[str, object]]] = queue.Queue()
            stop = threading.Event()
            threading.Thread(target=listen, args=(base, token, arrivals, stop), daemon=True).start()
            arrivals.get(timeout=10)  # the snapshot sent on connect
            for n in range(rounds):
                started = time.time()
                nija(data_dir, env, "kill", "activate", f"bench {n}")
                while True:
                    arrived, status = arrivals.get(timeout=10)
                    kill = status["kill_switch"]
                    assert isinstance(kill, dict)
                    if kill["active"] and kill["reason"] == f"bench {n}":
                        break
                written = datetime.fromisoformat(str(kill["since"])).timestamp()
                from_write.append(arrived - written)
                from_cli.append(arrived - started)
                nija(data_dir, env, "kill", "deactivate", "bench", "--yes")  # no retry: a refusal is a bug
                while arrivals.get(timeout=10)[1]["kill_switch"]["active"] is not False:  # type: ignore[index]
                    pass
            stop.set()
    return from_write, from_cli


def main() -> None:
    from nija.store.postgres.testing import temporary_database

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    results: dict[str, tuple[list[float], list[float]]] = {"files": measure(args.rounds, {})}
    with temporary_database() as url:
        results["postgresql"] = measure(args.rounds, {"NIJA_STORE": url, "NIJA_BOT": "bench"})
    print(f"CLI kill -> SSE event at a connected client, {args.rounds} rounds per store (the store's change feed)")
    for store, (from_write, from_cli) in results.items():
        for label, values in (("from the kill's write", from_write), ("from the CLI's start", from_cli)):
            print(
                f"  {store:<10} {label:<22} p50 {statistics.median(values) * 1000:7.1f} ms   "
                f"p99 {percentile(values, 99) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
            )
    files, pg = results["files"][0], results["postgresql"][0]
    p50 = statistics.median(pg) / statistics.median(files)
    p99 = percentile(pg, 99) / percentile(files, 99)
    print(f"  PostgreSQL / files, from the write: p50 {p50:.2f}x, p99 {p99:.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
