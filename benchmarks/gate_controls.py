"""The order gate's cost per order with every pre-trade control on, against the gate with
none; and replay throughput of the real bot with the controls on and off.

- "none": the permission check, then the broker;
- "all": the same plus the stale-data and position vetoes and the whole control chain
  (data quality, reference, collar, notional, duplicates, rate, open orders, daily caps,
  runaway breaker); limits are set out of reach so every order is admitted and every
  check runs to the end (the most expensive path).

Measured twice: into a broker that accepts at once (the gate's own cost: the ratio the
target is about), and into the real paper broker (what an order costs end to end, with
its SQLite ledger). Target: all/none under 2x, median and p99.

Usage: python benchmarks/gate_controls.py [--rounds 2000] [--minutes 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import percentile, summary
from replay_throughput import make_feed

from nija.assembly import build_service
from nija.config import NijaConfig
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.runtime.brokers.base import Broker, CancelResult
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.candles import Candle
from nija.runtime.controls import ControlChain, GateControls, ReferenceBook
from nija.runtime.engine import Bot
from nija.runtime.feeds import Freshness, read_csv
from nija.runtime.gate import OrderGate
from nija.runtime.orders import Order, OrderRequest, OrderType, Outcome, PlaceResult, Side
from nija.runtime.risk import OrderLimits
from nija.runtime.settings import PaperSettings, RiskSettings

BATCH = 50
OUT_OF_REACH = RiskSettings(
    max_order_notional=1e15,
    max_position_notional=1e18,
    max_submits_per_s=10**9,
    max_amends_per_s=10**9,
    max_open_orders=10**9,
    max_daily_orders=10**9,
    max_daily_notional=1e18,
    max_identical_orders=10**9,
    runaway_max_denials=10**9,
    max_order_to_fill_ratio=1e12,
    max_consecutive_losses=10**6,
    max_drawdown_pct=100,
    daily_loss_limit=1e12,
)


class AcceptingBroker:
    """Accepts every order at once and keeps nothing open: isolates the gate's own cost."""

    name = "accepting"

    def __init__(self) -> None:
        self._order = Order("x", "BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 100.0)

    def place(self, request: OrderRequest) -> PlaceResult:
        return PlaceResult(Outcome.ACCEPTED, "ACCEPTED", "", self._order)

    def cancel(self, order_id: str) -> CancelResult:
        return CancelResult(order_id, True)

    def cancel_all(self) -> list[CancelResult]:
        return []

    def open_orders(self) -> tuple[Order, ...]:
        return ()

    def open_for(self, symbol: str) -> tuple[Order, ...]:
        return ()

    def holdings(self) -> tuple[()]:
        return ()

    def held(self, symbol: str) -> float:
        return 0.0

    def account(self) -> object:
        raise NotImplementedError

    def mark(self, symbol: str) -> float | None:
        return 100.0

    def on_candle(self, candle: Candle) -> list[object]:
        return []

    def close(self) -> None:
        pass


def gates(directory: Path, broker: Broker) -> tuple[OrderGate, OrderGate]:
    service = build_service(directory)
    service.restore(Who("bench", "cli"))
    view = service.store.permission_view()
    clock = time.time
    freshness = Freshness(1e9, clock)
    freshness.saw_price(clock())
    references = ReferenceBook()
    references.observe("BTC/USDT", 100.0, clock())
    chain = ControlChain(OUT_OF_REACH, clock)
    none = OrderGate(view, {Mode.SIMULATED: broker})
    everything = OrderGate(
        view,
        {Mode.SIMULATED: broker},
        vetoes=[freshness.veto, OrderLimits(OUT_OF_REACH)],
        controls=GateControls(chain, references),
    )
    return none, everything


def per_order(gate: OrderGate, rounds: int, after: Callable[[], None]) -> list[float]:
    samples: list[float] = []
    n = 0
    for _ in range(rounds):
        requests = []
        for _ in range(BATCH):
            n += 1
            requests.append(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.001 + n * 1e-9, 99.0))
        start = time.perf_counter()
        for request in requests:
            result = gate.place(request)
        samples.append((time.perf_counter() - start) / BATCH)
        assert result.accepted, result
        after()
    return samples


def compare(label: str, none: list[float], everything: list[float]) -> None:
    ratio_median = statistics.median(everything) / statistics.median(none)
    ratio_p99 = percentile(everything, 0.99) / percentile(none, 0.99)
    print(f"{label}")
    print(f"  no controls:  {summary(none, 'µs', 1e6)}")
    print(f"  all controls: {summary(everything, 'µs', 1e6)}")
    verdict = "met" if ratio_median < 2 and ratio_p99 < 2 else "NOT met"
    print(f"  all/none: median {ratio_median:.2f}x, p99 {ratio_p99:.2f}x (target < 2x: {verdict})")


def replay(candles: list[Candle], directory: Path, *, controls: bool) -> tuple[float, int]:
    directory.mkdir()
    config = NijaConfig(risk=RiskSettings(max_consecutive_losses=10**6, max_drawdown_pct=100, daily_loss_limit=1e12))
    service = build_service(directory, config=config)
    service.restore(Who("bench", "cli"))
    bot = Bot(service, config, directory, actor="bench")
    if not controls:
        bot.gate.controls = None
    started = time.perf_counter()
    result = bot.run(candles)
    elapsed = time.perf_counter() - started
    assert not result.denials, result.denials
    return result.candles / elapsed, result.orders_placed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000, help=f"samples of {BATCH} orders each")
    parser.add_argument("--minutes", type=int, default=20_000, help="replay: minutes per symbol (3 symbols)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        none, everything = gates(root / "a", AcceptingBroker())  # type: ignore[arg-type]
        # alternate batch by batch so that drift of a shared machine hits both alike
        a: list[float] = []
        b: list[float] = []
        for _ in range(args.rounds):
            a += per_order(none, 1, lambda: None)
            b += per_order(everything, 1, lambda: None)
        compare("gate cost per order, broker that accepts at once (the gate's own cost):", a, b)

        (root / "p").mkdir()
        paper = PaperBroker(root / "p", PaperSettings(starting_cash=1e15))
        paper.on_candle(Candle(time.time(), "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0))
        none, everything = gates(root / "p", paper)
        a, b = [], []
        for _ in range(max(10, args.rounds // 5)):
            a += per_order(none, 1, paper.cancel_all)
            b += per_order(everything, 1, paper.cancel_all)
        compare("gate cost per order, into the paper broker (SQLite ledger):", a, b)

        candles = read_csv(make_feed(args.minutes, root))
        on, off = [], []
        for trial in range(5):
            rate_off, orders = replay(candles, root / f"off{trial}", controls=False)
            rate_on, orders_on = replay(candles, root / f"on{trial}", controls=True)
            assert orders == orders_on
            off.append(rate_off)
            on.append(rate_on)
        print(f"replay of {len(candles):,} candles ({orders} orders), alternating, median of 5:")
        rate_on, rate_off = statistics.median(on), statistics.median(off)
        print(f"  controls off: {rate_off:,.0f} candles/s")
        print(f"  controls on:  {rate_on:,.0f} candles/s ({rate_on / rate_off:.2f}x)")
        probe = Bot(build_service(root / "on0"), NijaConfig(), root / "on0", actor="bench")
        started = time.perf_counter()
        for candle in candles:
            probe._usable(candle)  # the per-candle reference bookkeeping, alone
        per_candle = (time.perf_counter() - started) / len(candles)
        print(f"  per-candle reference bookkeeping (in both runs): {per_candle * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
