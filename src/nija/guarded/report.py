"""What a guarded bot publishes in ``.nija_runtime.json`` (as ``nija run`` does): open
orders (paper and its own live ones), paper positions and P&L, denials and alerts, read
by ``status``, the web and the TUI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from nija.bot_report import BotReport, Notice, OpenOrder, Pnl, Position
from nija.domain.states import Mode

if TYPE_CHECKING:
    from nija.guarded.core import GuardCore


def guard_report(core: GuardCore) -> BotReport:
    account = core.paper.account()
    live = core.reaction.mode is Mode.LIVE
    report = BotReport(
        updated_at=datetime.now(UTC).isoformat(),
        mode="live" if live else "simulated" if core.reaction.mode is Mode.SIMULATED else "none",
        broker=f"guard {core.live.name}" if live else "guard paper",
        open_orders=tuple(
            OpenOrder(
                id=o.id, symbol=o.symbol, side=o.side.value, type=o.type.value, quantity=o.quantity, price=o.price
            )
            for o in (*core.paper.open_orders(), *core.live.own_open())
        ),
        positions=tuple(
            Position(
                symbol=h.symbol,
                quantity=h.quantity,
                average_price=h.average_price,
                market_price=core.paper.mark(h.symbol),
            )
            for h in core.paper.holdings()
        ),
        pnl=Pnl(
            cash=account.cash,
            equity=account.equity,
            realized=account.realized_pnl,
            unrealized=account.unrealized_pnl,
            fees=account.fees,
        ),
        orders_placed=core.gate.placed,
        denials=tuple(
            Notice(timestamp=datetime.now(UTC).isoformat(), code=d.code, message=f"{d.symbol}: {d.reason}")
            for d in core.gate.recent_denials
        ),
        alerts=tuple(core.alerts[-20:]),
    )
    return report
