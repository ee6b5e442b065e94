"""`python safe_restore_trading.py status` as a whole process, against `python -c pass`.

Target: median under 250 ms. Run: python benchmarks/status_process.py"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 30


def timed(command: list[str], cwd: str) -> list[float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        script = str(REPO / "safe_restore_trading.py")
        subprocess.run([sys.executable, script, "restore", "--yes"], cwd=directory, capture_output=True, check=True)
        status = timed([sys.executable, script, "status"], directory)
        baseline = timed([sys.executable, "-c", "pass"], directory)
    median, base = statistics.median(status), statistics.median(baseline)
    print(f"status process: median {median * 1e3:.0f} ms, max {max(status) * 1e3:.0f} ms, n={RUNS}")
    print(f"python -c pass: median {base * 1e3:.0f} ms")
    print(f"ratio: {median / base:.1f}x; target < 250 ms: {'met' if median < 0.25 else 'NOT met'}")


if __name__ == "__main__":
    main()
