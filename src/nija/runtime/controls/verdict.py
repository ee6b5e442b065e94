"""What a control says about one order: a denial, or a kill trigger."""

from __future__ import annotations

from dataclasses import dataclass

from nija.runtime.controls.codes import DenialCode


@dataclass(frozen=True, slots=True)
class Verdict:
    """A denial: the rule's stable code and a reason with the figures."""

    code: DenialCode
    reason: str

    def pair(self) -> tuple[str, str]:
        return (str(self.code), self.reason)


@dataclass(frozen=True, slots=True)
class Trigger:
    """An automatic kill: the trigger's name and a reason with the figures."""

    name: str  # DAILY_LOSS, DRAWDOWN, CONSECUTIVE_LOSSES, EXCHANGE_ERRORS, RUNAWAY_ORDERS
    reason: str

    @property
    def source(self) -> str:
        return f"AUTO_{self.name}"
