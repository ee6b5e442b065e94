"""What a control says about one order (a denial, or a kill trigger), and the order as
the controls see it."""

from __future__ import annotations

from dataclasses import dataclass

from nija.runtime.controls.codes import DenialCode
from nija.runtime.controls.reference import Reference
from nija.runtime.orders import OrderRequest


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


@dataclass(frozen=True, slots=True)
class Candidate:
    """One order being decided, with what the controls need to know about it."""

    request: OrderRequest
    reference: Reference | None
    open_orders: int  # orders of this bot open at the broker right now
    amend: bool = False  # the replacement half of an amend (cancel + place)
