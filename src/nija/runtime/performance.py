"""How a paper run did, from its fills alone: round-trip trades, their statistics, the
equity curve and its drawdown. Pure: no I/O, no clock (the ledger's rows come in).

Definitions (docs/report.md):
- a **round trip** is one symbol's position from flat to flat again; its P&L is the
  realized P&L of its fills minus all their fees. A position still open at the end is
  not a trade (it is in the equity curve at its last fill price);
- **equity** after each fill = the run's start equity + realized P&L - fees so far +
  the open positions of this run marked at their symbol's last fill price;
- **max drawdown** = the largest fall from a running peak of that curve, as a fraction of
  the peak (and in money);
- **return** = end equity / start equity - 1 (end equity: the run's recorded end, else the
  curve's last point);
- **Sharpe** = mean / sample standard deviation of the curve's step returns
  r_i = e_i / e_(i-1) - 1; **Sortino** = mean / downside deviation, sqrt(mean(min(r_i, 0)^2)).
  Both per fill step, not annualised (fills are not evenly spaced); None when undefined;
- **exposure** = the share of time with any position of this run open, on the fills' own
  clock (feed time in a replay, so not the run's wall-clock start and end): from the run's
  first fill to its last.
The curve starts at the first fill's time with the start equity."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FillRow:
    symbol: str
    side: str  # "buy" or "sell"
    quantity: float
    price: float
    fee: float
    realized: float
    timestamp: float  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    opened_at: float
    closed_at: float
    fills: int
    bought: float  # quantity
    pnl: float  # realized minus fees


@dataclass(frozen=True, slots=True)
class SymbolStats:
    symbol: str
    trades: int
    wins: int
    pnl: float
    fees: float


@dataclass(frozen=True)
class Performance:
    run_id: str
    started_at: float
    ended_at: float | None
    start_equity: float
    end_equity: float
    fills: int
    trades: tuple[Trade, ...]
    equity: tuple[tuple[float, float], ...]  # (timestamp, equity), the start first
    win_rate: float | None
    average_win: float | None
    average_loss: float | None
    profit_factor: float | None  # None without losses (infinite) or without trades
    max_drawdown: float  # fraction of the peak
    max_drawdown_amount: float
    total_return: float
    sharpe: float | None
    sortino: float | None
    exposure: float  # 0..1
    fees: float
    by_symbol: tuple[SymbolStats, ...] = field(default=())

    def drawdown_curve(self) -> tuple[tuple[float, float], ...]:
        """(timestamp, drawdown as a negative fraction of the running peak)."""
        peak = -math.inf
        points = []
        for moment, value in self.equity:
            peak = max(peak, value)
            points.append((moment, value / peak - 1 if peak > 0 else 0.0))
        return tuple(points)


_EPS = 1e-12


def analyse(
    run_id: str,
    fills: list[FillRow],
    *,
    started_at: float,
    ended_at: float | None,
    start_equity: float,
    end_equity: float | None,
) -> Performance:
    first = fills[0].timestamp if fills else started_at
    trades, curve, exposed = _walk(fills, first, start_equity)
    final = end_equity if end_equity is not None else curve[-1][1]
    wins = [t.pnl for t in trades if t.pnl > 0]
    losses = [t.pnl for t in trades if t.pnl <= 0]
    gross_loss = -sum(losses)
    span = fills[-1].timestamp - first if fills else 0.0
    drawdown, amount = _max_drawdown([v for _, v in curve])
    steps = [b / a - 1 for (_, a), (_, b) in itertools.pairwise(curve) if a > 0]
    return Performance(
        run_id=run_id,
        started_at=started_at,
        ended_at=ended_at,
        start_equity=start_equity,
        end_equity=final,
        fills=len(fills),
        trades=tuple(trades),
        equity=tuple(curve),
        win_rate=len(wins) / len(trades) if trades else None,
        average_win=sum(wins) / len(wins) if wins else None,
        average_loss=sum(losses) / len(losses) if losses else None,
        profit_factor=sum(wins) / gross_loss if trades and gross_loss > _EPS else None,
        max_drawdown=drawdown,
        max_drawdown_amount=amount,
        total_return=final / start_equity - 1 if start_equity > 0 else 0.0,
        sharpe=_sharpe(steps),
        sortino=_sortino(steps),
        exposure=min(1.0, exposed / span) if span > 0 else 0.0,
        fees=sum(f.fee for f in fills),
        by_symbol=_by_symbol(trades, fills),
    )


def _walk(
    fills: list[FillRow], started_at: float, start_equity: float
) -> tuple[list[Trade], list[tuple[float, float]], float]:
    held: dict[str, float] = {}
    cost: dict[str, float] = {}  # average price of the run's open position
    last: dict[str, float] = {}
    open_trade: dict[str, list[float]] = {}  # symbol -> [opened_at, fills, bought, pnl]
    trades: list[Trade] = []
    curve = [(started_at, start_equity)]
    booked = 0.0
    exposed, exposed_since = 0.0, None
    for f in fills:
        last[f.symbol] = f.price
        qty = held.get(f.symbol, 0.0)
        trade = open_trade.setdefault(f.symbol, [f.timestamp, 0, 0.0, 0.0])
        trade[1] += 1
        trade[3] += f.realized - f.fee
        booked += f.realized - f.fee
        if f.side == "buy":
            cost[f.symbol] = (cost.get(f.symbol, 0.0) * qty + f.price * f.quantity) / (qty + f.quantity)
            held[f.symbol] = qty + f.quantity
            trade[2] += f.quantity
        else:  # a sell of more than this run bought closes a position from before the run
            held[f.symbol] = max(0.0, qty - f.quantity)
        if abs(held[f.symbol]) <= 1e-9:
            held.pop(f.symbol)
            cost.pop(f.symbol, None)
            opened, count, bought, pnl = open_trade.pop(f.symbol)
            trades.append(Trade(f.symbol, opened, f.timestamp, int(count), bought, pnl))
        unrealized = sum((last[s] - cost.get(s, last[s])) * q for s, q in held.items())
        curve.append((f.timestamp, start_equity + booked + unrealized))
        if held and exposed_since is None:
            exposed_since = f.timestamp
        elif not held and exposed_since is not None:
            exposed += f.timestamp - exposed_since
            exposed_since = None
    if exposed_since is not None and fills:
        exposed += fills[-1].timestamp - exposed_since
    return trades, curve, exposed


def _max_drawdown(values: list[float]) -> tuple[float, float]:
    peak, worst, amount = -math.inf, 0.0, 0.0
    for value in values:
        peak = max(peak, value)
        if peak > 0 and value / peak - 1 < worst:
            worst, amount = value / peak - 1, peak - value
    return -worst, amount


def _sharpe(steps: list[float]) -> float | None:
    if len(steps) < 2:
        return None
    mean = sum(steps) / len(steps)
    var = sum((r - mean) ** 2 for r in steps) / (len(steps) - 1)
    return mean / math.sqrt(var) if var > _EPS**2 else None


def _sortino(steps: list[float]) -> float | None:
    if not steps:
        return None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in steps) / len(steps))
    return (sum(steps) / len(steps)) / downside if downside > _EPS else None


def _by_symbol(trades: list[Trade], fills: list[FillRow]) -> tuple[SymbolStats, ...]:
    symbols = sorted({f.symbol for f in fills})
    return tuple(
        SymbolStats(
            s,
            trades=sum(1 for t in trades if t.symbol == s),
            wins=sum(1 for t in trades if t.symbol == s and t.pnl > 0),
            pnl=sum(t.pnl for t in trades if t.symbol == s),
            fees=sum(f.fee for f in fills if f.symbol == s),
        )
        for s in symbols
    )
