"""NIJA kill to a real freqtrade (dry-run, local fake Kraken) refusing entries and
reporting no open orders, beside freqtrade's own ``/stop`` measured in the same run.

1. callback: freqtrade attempts an entry every loop (its strategy vetoes after NIJA's
   entry guard allowed); from the kill to the first entry NIJA refuses, as logged by
   freqtrade (millisecond timestamps). Bounded by freqtrade's loop (process_throttle_secs
   = 1 here): the guard answers from the files at call time. Also: the cost of the check.
2. bridge: from the kill to freqtrade's REST API reporting no open orders, and to it
   reporting itself stopped (``nija bridge freqtrade`` running as its own process).
3. freqtrade's own /stop: from POST /stop to freqtrade reporting itself stopped, and the
   open orders it leaves (it cancels them on exit only with cancel_open_orders_on_exit).

Usage: python benchmarks/freqtrade_kill.py [--trials 5]   (needs scripts/install_freqtrade.sh)
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._stats import percentile
from tests.conftest import cli_env
from tests.fakes.kraken_server import FakeKraken
from tests.freqtrade.harness import PASSWORD, USER, Freqtrade, running_freqtrade
from tests.guard.helpers import dry_run, kill, service
from tests.runtime.runtime_helpers import wait_for

from nija.domain.transitions import Who
from nija.integrations.freqtrade.strategy import entry_permission
from nija.store.json_files import JsonFileStore

OPERATOR = Who("alice@host", "cli")
VETOING = '''

class Vetoing(Resting):
    """NIJA's guard first; then the strategy itself says no: freqtrade retries every loop."""

    def confirm_trade_entry(self, pair, *args, **kwargs):
        if not super().confirm_trade_entry(pair, *args, **kwargs):
            return False
        return False
'''


def figures(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"{name:<52} p50 {percentile(ordered, 0.5) * 1000:8.1f} ms   p99 {percentile(ordered, 0.99) * 1000:8.1f} ms"
        f"   n={len(samples)}"
    )


def lift(data_dir: Path) -> None:
    svc = service(data_dir)
    if svc.snapshot().kill_active:
        (data_dir / "EMERGENCY_STOP").unlink(missing_ok=True)
        svc.deactivate_kill("benchmark trial done", OPERATOR)
    dry_run(data_dir)


def refusals_after(bot: Freqtrade, t0: float) -> float | None:
    for line in bot.log_text().splitlines():
        if "NIJA refused the entry" in line and "KILL_SWITCH_ACTIVE" in line:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if stamp >= t0:
                return stamp
    return None


def callback_trials(fake: FakeKraken, work: Path, trials: int) -> list[float]:
    data_dir = work / "nija-callback"
    data_dir.mkdir()
    dry_run(data_dir)
    samples: list[float] = []
    with running_freqtrade(fake, work / "ft-callback", data_dir, extra_strategy=VETOING) as bot:
        wait_for(lambda: "Vetoing" in bot.log_text(), timeout=60, what="freqtrade running the strategy")
        time.sleep(3)  # past start-up: entries are attempted every loop now
        for i in range(trials):
            time.sleep(0.13 * i % 1)  # spread the kill over freqtrade's loop phase
            t0 = time.time()
            kill(data_dir, "benchmark")
            wait_for(lambda t=t0: refusals_after(bot, t) is not None, timeout=30, what="an entry refused")
            stamp = refusals_after(bot, t0)
            assert stamp is not None
            samples.append(stamp - t0)
            lift(data_dir)
    return samples


def bridge_trials(fake: FakeKraken, work: Path, trials: int) -> tuple[list[float], list[float], list[float], list[int]]:
    data_dir = work / "nija-bridge"
    data_dir.mkdir()
    dry_run(data_dir)
    to_no_orders: list[float] = []
    to_stopped: list[float] = []
    own_stop: list[float] = []
    left_open: list[int] = []
    with running_freqtrade(fake, work / "ft-bridge", data_dir) as bot:
        bridge = subprocess.Popen(
            [sys.executable, "-m", "nija", "bridge", "freqtrade", "--data-dir", str(data_dir), "--url", bot.url],
            env=cli_env(FREQTRADE_USERNAME=USER, FREQTRADE_PASSWORD=PASSWORD),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(2)  # the bridge is following
            for _ in range(trials):
                wait_for(lambda: len(bot.open_orders()) == 1, timeout=60, what="an open entry order")
                t0 = time.perf_counter()
                kill(data_dir, "benchmark")
                wait_for(lambda: bot.open_orders() == [], timeout=60, what="no open orders")
                to_no_orders.append(time.perf_counter() - t0)
                wait_for(lambda: bot.state() == "stopped", timeout=60, what="freqtrade stopped")
                to_stopped.append(time.perf_counter() - t0)
                lift(data_dir)
                bot.api("POST", "/start")
                # freqtrade's own stop, same bot, same open-order situation.
                wait_for(lambda: len(bot.open_orders()) == 1, timeout=60, what="an open entry order")
                t0 = time.perf_counter()
                bot.api("POST", "/stop")
                wait_for(lambda: bot.state() == "stopped", timeout=60, what="freqtrade stopped by /stop")
                own_stop.append(time.perf_counter() - t0)
                left_open.append(len(bot.open_orders()))
                bot.api("POST", "/start")
        finally:
            bridge.send_signal(signal.SIGTERM)
            bridge.wait(timeout=60)
    return to_no_orders, to_stopped, own_stop, left_open


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeKraken() as fake:
        work = Path(tmp)
        view_dir = work / "nija-check"
        view_dir.mkdir()
        dry_run(view_dir)
        view = JsonFileStore(view_dir).permission_view()
        costs = []
        for _ in range(2000):
            start = time.perf_counter()
            entry_permission(view, dry_run=True, bridge=lambda: None)
            costs.append(time.perf_counter() - start)
        callback = callback_trials(fake, work, args.trials)
        no_orders, stopped, own_stop, left_open = bridge_trials(fake, work, args.trials)
    print("freqtrade 2026.9 (dry-run, fake Kraken on loopback, process_throttle_secs = 1)")
    print(f"{'entry guard check (confirm_trade_entry)':<52} p50 {percentile(costs, 0.5) * 1e6:8.1f} us"
          f"   p99 {percentile(costs, 0.99) * 1e6:8.1f} us   n={len(costs)}")  # fmt: skip
    print(figures("kill -> next entry refused by NIJA (freqtrade log)", callback))
    print(figures("kill -> bridge: freqtrade API reports no open orders", no_orders))
    print(figures("kill -> bridge: freqtrade API reports stopped", stopped))
    print(figures("freqtrade's own POST /stop -> reports stopped", own_stop))
    print(f"open orders freqtrade's own /stop left behind: {left_open} (the bridge's kill: 0 each time)")


if __name__ == "__main__":
    main()
