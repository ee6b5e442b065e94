"""A change the domain decided on, for a store to write in one go."""

from __future__ import annotations

from dataclasses import dataclass

from nija.domain.records import KillRecord, TradingRecord


@dataclass(frozen=True, slots=True)
class Change:
    """What to write. ``None`` leaves a record as it is.

    ``clear_kill_flag`` removes the kill file only if it is still the one that was
    seen when the change was decided: a kill raised meanwhile is never lost."""

    trading: TradingRecord | None = None
    kill: KillRecord | None = None
    clear_kill_flag: bool = False
    messages: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self.trading is None and self.kill is None and not self.clear_kill_flag
