"""What an operator reads: a title and a body for each notable event."""

from __future__ import annotations

from dataclasses import dataclass

from nija.domain.events import Event, EventKind

_TITLES = {
    EventKind.KILL_ACTIVATED: ("🛑 NIJA kill switch ACTIVATED: all trading stopped", "failure"),
    EventKind.KILL_DEACTIVATED: ("NIJA kill switch deactivated (trading stays OFF)", "warning"),
    EventKind.RESTORE: ("NIJA restored to DRY_RUN (simulation)", "success"),
    EventKind.RESET: ("NIJA reset: trading disabled (OFF)", "info"),
    EventKind.LIVE_REQUESTED: ("⚠️ NIJA live trading REQUESTED", "warning"),
    EventKind.LIVE_CONFIRMED: ("⚠️ NIJA LIVE trading CONFIRMED: real capital at risk", "warning"),
    EventKind.LIVE_CANCELLED: ("NIJA live request cancelled", "info"),
    EventKind.LIVE_EXPIRED: ("NIJA live request expired (back to DRY_RUN)", "info"),
    EventKind.LIVE_WRONG_CODE: ("⚠️ NIJA wrong live confirmation code", "warning"),
    EventKind.LIVE_NOT_VERIFIED: (
        "🛑 NIJA refused an unverified LIVE_ACTIVE (restored or edited state): kill switch raised",
        "failure",
    ),
    EventKind.BOT_STARTED: ("NIJA bot restarted: live trading was not resumed", "warning"),
    EventKind.ORDER_DENIED: ("NIJA order denied", "warning"),
    EventKind.TRANSITION: ("NIJA state changed", "info"),
    EventKind.BRIDGE_ACTION: ("NIJA acted on a guarded bot", "info"),
    EventKind.BRIDGE_ALERT: ("⚠️ NIJA could not confirm a guarded bot stopped", "failure"),
    EventKind.KILL_RECEIPT: ("NIJA kill receipt: the broker confirms no order of the bot is open", "success"),
    EventKind.KILL_NOT_CONFIRMED: (
        "🛑 NIJA kill NOT CONFIRMED by the exchange: check it now",
        "failure",
    ),
    EventKind.EXCHANGE_CHECK: ("NIJA exchange check", "warning"),
    EventKind.INCONSISTENCY_DETECTED: (
        "⚠️ NIJA inconsistency detected: run 'safe_restore_trading.py status'",
        "warning",
    ),
}


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    notify_type: str  # apprise's info | success | warning | failure
    kind: str


def message_for(event: Event, where: str) -> Message:
    title, notify_type = _TITLES.get(event.kind, (f"NIJA {event.kind}", "info"))
    lines = [
        f"Reason: {event.reason}" if event.reason else "",
        f"By: {event.actor} via {event.source}",
        f"At: {event.timestamp.isoformat(timespec='seconds')}",
        f"Where: {where}",
        *(f"{key}: {value}" for key, value in sorted(event.details.items())),
    ]
    return Message(title, "\n".join(line for line in lines if line), notify_type, str(event.kind))
