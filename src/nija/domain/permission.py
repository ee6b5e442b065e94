"""The answer to "may an order be placed now, and in which mode?"."""

from __future__ import annotations

from dataclasses import dataclass

from nija.domain.records import Snapshot, TradingRecord
from nija.domain.states import Mode, TradingState


@dataclass(frozen=True, slots=True)
class Permission:
    allowed: bool
    mode: Mode | None
    code: str
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def decide(snapshot: Snapshot) -> Permission:
    if snapshot.kill_active:
        return Permission(False, None, "KILL_SWITCH_ACTIVE", "the kill switch is active")
    record = snapshot.trading
    if not isinstance(record, TradingRecord):  # pragma: no cover - unreadable implies kill_active
        return Permission(False, None, "STATE_UNREADABLE", "the trading state record is unreadable")
    state = record.current_state
    if state is TradingState.DRY_RUN:
        return Permission(True, Mode.SIMULATED, "DRY_RUN", "DRY_RUN: orders are simulated")
    if state is TradingState.LIVE_ACTIVE:
        if not reached_live_by_confirmation(record):
            return Permission(
                False,
                None,
                "HISTORY_MISMATCH",
                "LIVE_ACTIVE is not backed by a confirmed live request in the history",
            )
        return Permission(True, Mode.LIVE, "LIVE_ACTIVE", "LIVE_ACTIVE: orders go to the exchange")
    return Permission(False, None, f"STATE_{state}", f"{state} places no orders")


def reached_live_by_confirmation(record: TradingRecord) -> bool:
    """A hand-edited file must never be enough to trade live."""
    if not record.history:
        return False
    last = record.history[-1]
    return last.from_state is TradingState.LIVE_PENDING_CONFIRMATION and last.to_state is TradingState.LIVE_ACTIVE
