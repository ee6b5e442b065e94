"""The run's end summary: what the bot did, and what the operator should know or do next."""

from __future__ import annotations

from pathlib import Path

from nija.domain.actions import CLI_COMMAND, FixAction
from nija.domain.errors import StorageProblem
from nija.domain.states import TradingState
from nija.runtime.bot_reporter import Counters, foreign_orders
from nija.runtime.brokers.base import Account, Broker
from nija.runtime.brokers.ledger import RunTotals
from nija.runtime.brokers.owned import foreign_notice
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.controls import ControlChain
from nija.runtime.gate import OrderGate
from nija.runtime.outage import OutageTracker
from nija.runtime.reaction import Reaction
from nija.runtime.receipts import ReceiptTaker
from nija.runtime.risk import KillTriggers
from nija.runtime.store_writes import Alert
from nija.runtime.summary import Summary
from nija.service import SafetyService


def end_state(service: SafetyService, outage: OutageTracker, alert: Alert) -> TradingState | None:
    """The state at the end, or None when the fleet database cannot say (never guessed)."""
    try:
        if outage.current is None:
            return service.snapshot().state
    except StorageProblem as exc:
        alert("STATE_UNKNOWN", f"the state at the end could not be read: {exc.message}")
    return None


def summarize(
    *,
    paper: PaperBroker,
    live: Broker | None,
    totals: RunTotals,
    account: Account,
    feed: str,
    counters: Counters,
    gate: OrderGate,
    controls: ControlChain,
    reaction: Reaction,
    triggers: KillTriggers,
    outage: OutageTracker,
    receipts: ReceiptTaker,
    currency: str,
    state_at_start: TradingState,
    state_at_end: TradingState | None,
    kill_reason: str | None,
    stopped_by: str,
    restart_rule_from: TradingState | None,
    live_refused: str,
    data_dir: Path,
) -> Summary:
    """``totals`` and ``account``: the paper ledger's, read once the run has ended."""
    return Summary(
        run_id=paper.run_id,
        state_at_start=str(state_at_start),
        state_at_end=str(state_at_end) if state_at_end is not None else "UNKNOWN (the fleet database is unreachable)",
        broker=paper.name if live is None else f"{paper.name} + {live.name}",
        feed=feed,
        candles=counters.candles,
        orders_placed=gate.placed,
        fills=counters.fills,
        cancelled=totals.cancelled,
        rejected=totals.rejected,
        # The ledger's exact amounts, as floats for the report (JSON, text).
        fees=float(totals.fees),
        realized_pnl=float(totals.realized),
        unrealized_pnl=account.unrealized_pnl,
        net_pnl=account.equity - float(totals.start_equity),
        start_equity=float(totals.start_equity),
        end_equity=account.equity,
        currency=currency,
        account="new" if paper.new_account else "continued",
        denials=dict(gate.denials.most_common()),
        controls=controls.figures(),
        kill=kill_reason,
        kill_complete=not reaction.kill.active or reaction.kill.complete,
        auto_kill=next((t.reason for t in (triggers.fired, controls.tripped) if t), None),
        stopped_by=stopped_by,
        notes=end_notes(
            restart_rule_from=restart_rule_from,
            live_refused=live_refused,
            state_at_start=state_at_start,
            orders_placed=gate.placed,
            foreign=len(foreign_orders(live)),
            data_dir=data_dir,
            end=state_at_end,
        ),
        alerts=tuple(f"{a.code}: {a.message}" for a in counters.alerts),
        outages=tuple(outage.as_dicts()),
        foreign_orders=len(foreign_orders(live)),
        kill_receipt=receipts.latest.verdict if receipts.latest else None,
        kill_receipt_missed=receipts.missed_deadline,
    )


def end_notes(
    *,
    restart_rule_from: TradingState | None,
    live_refused: str,
    state_at_start: TradingState,
    orders_placed: int,
    foreign: int,
    data_dir: Path,
    end: TradingState | None,
) -> tuple[str, ...]:
    notes: list[str] = []
    if restart_rule_from is not None:
        notes.append(
            f"The state was {restart_rule_from} when this run started; it was turned OFF because a "
            "live confirmation is bound to the bot run it was given to, and a new run never trades on "
            "an old one. To trade live: 'nija restore' (DRY_RUN), keep the bot running in DRY_RUN, then "
            "'nija live request' and confirm while it runs."
        )
    if live_refused:
        notes.append(f"A LIVE_ACTIVE state this run could not verify was refused: {live_refused}.")
    if state_at_start is TradingState.OFF and orders_placed == 0:
        notes.append(
            f"Trading is OFF: no orders were placed. To simulate trading, enter DRY_RUN with "
            f"'{CLI_COMMAND[FixAction.RESTORE]} --data-dir {data_dir}' and run again."
        )
    if foreign:
        notes.append(f"{foreign_notice(foreign)} (never cancelled, amended or sold by NIJA).")
    if end is TradingState.EMERGENCY_STOP:
        notes.append(
            "The kill switch is active: no orders can be placed. Investigate, then "
            f"'{CLI_COMMAND[FixAction.KILL_DEACTIVATE]}' and '{CLI_COMMAND[FixAction.RESTORE]}'."
        )
    return tuple(notes)
