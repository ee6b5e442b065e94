"""The five trading states and the transition table, kept as data.

The table is DESIGN.md section 2 verbatim; ``validate_table`` runs at import so a
mistyped edit fails loudly instead of silently permitting a path to live trading.
"""

from __future__ import annotations

from enum import StrEnum


class TradingState(StrEnum):
    OFF = "OFF"
    DRY_RUN = "DRY_RUN"
    LIVE_PENDING_CONFIRMATION = "LIVE_PENDING_CONFIRMATION"
    LIVE_ACTIVE = "LIVE_ACTIVE"
    EMERGENCY_STOP = "EMERGENCY_STOP"

    @property
    def is_live(self) -> bool:
        return self in LIVE_STATES


class Mode(StrEnum):
    """How an order that is allowed will be executed."""

    SIMULATED = "simulated"
    LIVE = "live"


LIVE_STATES = frozenset({TradingState.LIVE_PENDING_CONFIRMATION, TradingState.LIVE_ACTIVE})

S = TradingState
TRANSITIONS: dict[TradingState, frozenset[TradingState]] = {
    S.OFF: frozenset({S.DRY_RUN, S.EMERGENCY_STOP}),
    S.DRY_RUN: frozenset({S.OFF, S.LIVE_PENDING_CONFIRMATION, S.EMERGENCY_STOP}),
    S.LIVE_PENDING_CONFIRMATION: frozenset({S.LIVE_ACTIVE, S.DRY_RUN, S.OFF, S.EMERGENCY_STOP}),
    S.LIVE_ACTIVE: frozenset({S.DRY_RUN, S.OFF, S.EMERGENCY_STOP}),
    # Leaving EMERGENCY_STOP additionally needs the kill switch inactive (see transitions.py).
    S.EMERGENCY_STOP: frozenset({S.OFF}),
}
del S


def validate_table(table: dict[TradingState, frozenset[TradingState]]) -> None:
    """Check the structural safety properties of a transition table."""
    missing = set(TradingState) - set(table)
    if missing:
        raise ValueError(f"transition table lacks states: {sorted(missing)}")
    for source, targets in table.items():
        if source in targets:
            raise ValueError(f"transition table has a self-loop on {source}")
        if source is not TradingState.EMERGENCY_STOP and TradingState.EMERGENCY_STOP not in targets:
            raise ValueError(f"{source} cannot reach EMERGENCY_STOP: a kill must work from anywhere")
    into_live = [s for s, targets in table.items() if TradingState.LIVE_ACTIVE in targets]
    if into_live != [TradingState.LIVE_PENDING_CONFIRMATION]:
        raise ValueError("LIVE_ACTIVE must be reachable only from LIVE_PENDING_CONFIRMATION")


validate_table(TRANSITIONS)


def parse_state(text: str) -> TradingState:
    """Return the state named by ``text``; raise ValueError for anything unknown."""
    try:
        return TradingState(text)
    except ValueError:
        raise ValueError(f"unknown trading state {text!r}") from None


# Every surface shows these words above everything else while orders move real money
# (the web's red frame and badge, the TUI's red status border, the CLI's status banner).
REAL_MONEY_BANNER = "REAL MONEY: LIVE_ACTIVE, orders go to the exchange"
