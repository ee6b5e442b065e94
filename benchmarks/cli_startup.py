"""How fast the command-line tools start, as ratios to ``python -c pass`` measured in the
same run (so the figures hold on a loaded machine):

- ``emergency_kill_switch.py activate``: from process start to the kill file existing
  (target: within 3x) and to the command's exit (target: within 8x);
- ``safe_restore_trading.py status`` and ``nija --help`` (target: under 6x).

Runs are interleaved (one of each per round) so that a burst of load hits all alike.
Bytecode is cached as an installed package has it (pip compiles on install): the runs
write it under a temporary PYTHONPYCACHEPREFIX, after one warm-up round, even where
PYTHONDONTWRITEBYTECODE is set (as on the shared machines), which would otherwise
measure the compilation of NIJA's sources on every start.

    python benchmarks/cli_startup.py [--rounds 20]"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYCACHE = tempfile.mkdtemp(prefix="nija-bench-pycache-")
atexit.register(shutil.rmtree, PYCACHE, ignore_errors=True)


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NIJA_") and k != "PYTHONDONTWRITEBYTECODE"}
    base["PYTHONPATH"] = str(REPO / "src")
    base["PYTHONPYCACHEPREFIX"] = PYCACHE
    return base


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env(), capture_output=True, check=False)
    return time.perf_counter() - started


def kill_timings(data_dir: Path) -> tuple[float, float]:
    """(start -> kill file exists, start -> exit), the file polled every 0.2 ms."""
    kill_file = data_dir / "EMERGENCY_STOP"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "emergency_kill_switch.py"), "activate", "bench", "--data-dir", str(data_dir)],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    raised = None
    while proc.poll() is None:
        if raised is None and os.path.lexists(kill_file):
            raised = time.perf_counter() - started
        time.sleep(0.0002)
    exited = time.perf_counter() - started
    if raised is None and os.path.lexists(kill_file):
        raised = exited
    assert raised is not None, "the kill file never appeared"
    subprocess.run(
        [sys.executable, str(REPO / "emergency_kill_switch.py"), "deactivate", "bench", "--yes",
         "--data-dir", str(data_dir)],
        env=env(), capture_output=True, check=True,
    )  # fmt: skip
    return raised, exited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {k: [] for k in ("pass", "kill file", "kill exit", "status", "help")}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        status = [sys.executable, str(REPO / "safe_restore_trading.py"), "status", "--data-dir", str(data_dir)]
        for round_no in range(args.rounds + 1):
            if round_no == 1:  # round 0 warmed the bytecode cache: measure from here
                samples = {k: [] for k in samples}
            samples["pass"].append(timed([sys.executable, "-c", "pass"], data_dir))
            raised, exited = kill_timings(data_dir)
            samples["kill file"].append(raised)
            samples["kill exit"].append(exited)
            samples["status"].append(timed(status, data_dir))
            samples["help"].append(timed([sys.executable, "-m", "nija", "--help"], data_dir))
    base = statistics.median(samples["pass"])
    targets = {"kill file": 3.0, "kill exit": 8.0, "status": 6.0, "help": 6.0}
    print(f"python -c pass: median {base * 1000:.1f} ms ({args.rounds} rounds, interleaved)")
    for name, target in targets.items():
        median = statistics.median(samples[name])
        verdict = "met" if median / base <= target else "NOT met"
        print(f"  {name:<10} median {median * 1000:7.1f} ms  {median / base:5.1f}x  (target {target:g}x: {verdict})")


if __name__ == "__main__":
    main()
