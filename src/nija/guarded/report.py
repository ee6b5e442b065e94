"""What a guarded bot publishes in ``.nija_runtime.json`` (as ``nija run`` does): open
orders (paper and its own live ones), paper positions and P&L, denials and alerts, read
by ``status``, the web and the TUI. Built from the same pieces as ``nija run``'s report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nija.bot_report import BotReport
from nija.domain.states import Mode
from nija.runtime.bot_reporter import denial_notices, mode_word, now_iso, open_order, pnl_of, positions_of

if TYPE_CHECKING:
    from nija.guarded.core import GuardCore


def guard_report(core: GuardCore) -> BotReport:
    live = core.reaction.mode is Mode.LIVE
    return BotReport(
        updated_at=now_iso(),
        mode=mode_word(core.reaction.mode),
        broker=f"guard {core.live.name}" if live else "guard paper",
        open_orders=tuple(open_order(o) for o in (*core.paper.open_orders(), *core.live.own_open())),
        positions=positions_of(core.paper),
        pnl=pnl_of(core.paper),
        orders_placed=core.gate.placed,
        denials=denial_notices(core.gate),
        alerts=tuple(core.alerts[-20:]),
    )
