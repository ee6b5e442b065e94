"""How fast the terminal control center notices a change made elsewhere, and how long
``--snapshot`` takes as a process. Prints figures; asserts nothing.

    python benchmarks/tui_latency.py [ROUNDS]

Latency is measured from the moment another writer's ``activate_kill`` or
``deactivate_kill`` returns (a separate SafetyService on the same directory, as any
other process would be) to the moment the app has drawn a frame showing it. The slow
liveness timer is off, so only file events can explain a refresh."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from nija.assembly import build_service  # noqa: E402 - after the path set-up above
from nija.domain.transitions import Who  # noqa: E402
from nija.tui.app import ControlCenter  # noqa: E402
from nija.tui.local import LocalBackend  # noqa: E402

OTHER = Who("bench@elsewhere", "cli")


async def notice_latencies(data_dir: Path, rounds: int) -> list[float]:
    other = build_service(data_dir)
    app = ControlCenter(LocalBackend(data_dir), liveness_refresh_s=None)
    found: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        while app.frame is None or not app.watching:
            await pilot.pause(0.01)
        for number in range(rounds):
            want = number % 2 == 0
            if want:
                await asyncio.to_thread(other.activate_kill, f"bench {number}", OTHER)
            else:
                await asyncio.to_thread(other.deactivate_kill, f"bench {number}", OTHER)
            done = time.perf_counter()
            while app.frame is None or app.frame.status.kill_switch.active is not want:
                await pilot.pause(0.002)
            found.append(time.perf_counter() - done)
    return found


def snapshot_seconds(data_dir: Path, rounds: int) -> list[float]:
    found = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(REPO / "nija_control_center.py"), "--data-dir", str(data_dir), "--snapshot"],
            capture_output=True,
            check=False,
        )
        found.append(time.perf_counter() - start)
    return found


def show(name: str, values: list[float]) -> None:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{name}: n={len(ms)} median={statistics.median(ms):.0f} ms p95={p95:.0f} ms max={ms[-1]:.0f} ms")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        show("change noticed by the TUI (file events)", asyncio.run(notice_latencies(data_dir, rounds)))
        show("--snapshot process wall time", snapshot_seconds(data_dir, 5))


if __name__ == "__main__":
    main()
