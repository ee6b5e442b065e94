"""Immutable events the service emits after every committed change.

Audit trail, notifications, metrics and the API's event stream all listen to these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EventKind(StrEnum):
    TRANSITION = "transition"
    KILL_ACTIVATED = "kill_activated"
    KILL_DEACTIVATED = "kill_deactivated"
    RESTORE = "restore"
    RESET = "reset"
    LIVE_REQUESTED = "live_requested"
    LIVE_CONFIRMED = "live_confirmed"
    LIVE_CANCELLED = "live_cancelled"
    LIVE_EXPIRED = "live_expired"
    LIVE_WRONG_CODE = "live_wrong_code"
    LIVE_NOT_VERIFIED = "live_not_verified"
    BOT_STARTED = "bot_started"
    ORDER_DENIED = "order_denied"
    INCONSISTENCY_DETECTED = "inconsistency_detected"
    BRIDGE_ACTION = "bridge_action"  # what a bridge did to a bot NIJA does not run (freqtrade)
    BRIDGE_ALERT = "bridge_alert"  # a bridge could not do or confirm it: someone must look
    KILL_RECEIPT = "kill_receipt"  # the broker confirmed none of the bot's orders open
    KILL_NOT_CONFIRMED = "kill_not_confirmed"  # ... could not, within the deadline
    EXCHANGE_CHECK = "exchange_check"  # reconciliation or API-key attestation, with its result
    ACCOUNT_LIMITS_SET = "account_limits_set"  # an operator set an exchange account's limits
    ACCOUNT_LIMIT_BREACHED = "account_limit_breached"  # the figures that killed an account


@dataclass(frozen=True, slots=True)
class Event:
    """One safety event, for the audit trail, the listeners and the event stream."""

    kind: EventKind
    actor: str
    source: str
    reason: str
    timestamp: datetime
    details: dict[str, str] = field(default_factory=dict)
