"""Replay throughput: candles per second through strategy, gate and paper broker.

Runs the real bot (``nija.runtime.engine.Bot``) in DRY_RUN on a fresh data directory,
over candles from the sample's seeded model (scripts/generate_sample_candles.py),
with the kill watcher, heartbeat and report running. Target: over 50,000 candles/s.

Usage: python benchmarks/replay_throughput.py [--minutes 40000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

from nija.assembly import build_service
from nija.config import NijaConfig
from nija.domain.transitions import Who
from nija.runtime.engine import Bot
from nija.runtime.feeds import read_csv
from nija.runtime.settings import RiskSettings

ROOT = Path(__file__).resolve().parent.parent


def make_feed(minutes: int, directory: Path) -> Path:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "generate_sample_candles.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = directory / "candles.csv"
    path.write_text("\n".join(module.generate(minutes, 7)) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=40_000, help="minutes per symbol (3 symbols)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        feed = make_feed(args.minutes, Path(tmp))
        started = time.perf_counter()
        candles = read_csv(feed)
        parse_s = time.perf_counter() - started
        rates = []
        for trial in range(args.repeat):
            data_dir = Path(tmp) / f"run{trial}"
            data_dir.mkdir()
            # Limits out of the way: an automatic kill would turn the rest into cheap denials.
            config = NijaConfig(
                risk=RiskSettings(max_consecutive_losses=10**6, max_drawdown_pct=100, daily_loss_limit=1e12)
            )
            service = build_service(data_dir, config=config)
            service.restore(Who("bench", "cli"))
            bot = Bot(service, config, data_dir, actor="bench")
            started = time.perf_counter()
            summary = bot.run(candles)
            elapsed = time.perf_counter() - started
            rates.append(summary.candles / elapsed)
            print(
                f"run {trial + 1}: {summary.candles:,} candles in {elapsed:.3f} s = {rates[-1]:,.0f} candles/s "
                f"({summary.orders_placed} orders, {summary.fills} fills, denials {summary.denials or 'none'})"
            )
    print(f"CSV parsing: {len(candles):,} candles in {parse_s:.3f} s = {len(candles) / parse_s:,.0f} candles/s")
    print(f"replay throughput (strategy + gate + paper broker): median {statistics.median(rates):,.0f} candles/s")


if __name__ == "__main__":
    main()
