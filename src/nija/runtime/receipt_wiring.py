"""Which brokers a kill receipt asks, the event that records it (audit trail,
notifications, metrics), and what the bot does with a receipt once taken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from nija.domain.events import Event, EventKind
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.kill_receipt import KillReceipt, write_receipt
from nija.runtime.brokers.base import Broker
from nija.runtime.gate import OrderGate
from nija.service import SafetyService


def receipt_brokers(gate: OrderGate, trading_mode: Mode | None, live: Broker | None, trigger: str) -> list[Broker]:
    """The broker of the mode that was trading (paper when none was), and the exchange
    too only if this bot has orders or positions of its own there: a DRY_RUN drill's
    receipt comes from the paper ledger and asks the exchange nothing."""
    if trigger == "left live" and live is not None:
        return [live]
    brokers: list[Broker] = []
    trading = gate.broker_for(trading_mode) or gate.broker_for(Mode.SIMULATED)
    if trading is not None:
        brokers.append(trading)
    owned = getattr(live, "owned", None)
    if live is not None and live not in brokers and owned is not None and owned.ever_traded:
        brokers.append(live)
    return brokers


def receipt_event(receipt: KillReceipt, who: Who) -> Event:
    own = sum(len(b.own_open) for b in receipt.brokers)
    foreign = sum(len(b.foreign_open) for b in receipt.brokers)
    return Event(
        EventKind.KILL_RECEIPT if receipt.confirmed else EventKind.KILL_NOT_CONFIRMED,
        who.actor,
        who.source,
        receipt.verdict,
        datetime.now(UTC),
        {
            "trigger": receipt.trigger,
            "confirmed": str(receipt.confirmed).lower(),
            "seconds_to_flat": "" if receipt.seconds_to_flat is None else f"{receipt.seconds_to_flat:.6f}",
            "own_open": str(own),
            "foreign_open": str(foreign),
            "residual_exposure": f"{receipt.residual_exposure:.8f}",
            "currency": receipt.currency,
            "brokers": ",".join(b.broker for b in receipt.brokers),
            "run_id": receipt.run_id,
        },
    )


def publish_receipt(
    receipt: KillReceipt,
    *,
    data_dir: Path,
    live: Broker | None,
    alert: Callable[[str, str], None],
    service: SafetyService,
    who: Who,
) -> None:
    """Called from the receipt thread: durable file, alert, audit and notifications."""
    write_receipt(data_dir, receipt)
    if receipt.confirmed and hasattr(live, "disarm_when_flat"):
        live.disarm_when_flat()  # type: ignore[union-attr]
    alert("KILL_RECEIPT" if receipt.confirmed else "KILL_NOT_CONFIRMED", receipt.verdict)
    service.publish(receipt_event(receipt, who))
