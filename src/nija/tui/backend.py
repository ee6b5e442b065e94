"""The one seam between the control center and a control plane: local files or the
HTTP API. Screens only ever talk to a ``Backend``; refusals arrive as ``NijaError``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from nija.domain.transitions import Who
from nija.identity import local_who
from nija.tui.frame import Frame
from nija.views import HistoryView, RecoveryPlanView


@dataclass(frozen=True, slots=True)
class PlanView:
    """A recovery plan as shown to the operator before confirming it."""

    action: str  # "restore" or "reset"
    path: str  # e.g. "EMERGENCY_STOP → OFF → DRY_RUN"; empty when nothing to do
    steps: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    token: object = None  # the backend's own plan, handed back to apply it unchanged

    @classmethod
    def of(cls, plan: RecoveryPlanView, token: object = None) -> PlanView:
        """The wire plan as both backends show it: each step from its fields, never a parsed path."""
        steps = tuple(f"{s.from_state} → {s.to_state}: {s.reason}" for s in plan.steps)
        return cls(plan.action, plan.path, steps, plan.warnings, token=token)

    @property
    def nothing_to_do(self) -> bool:
        return not self.steps


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did, in lines fit for the message bar."""

    summary: str
    details: tuple[str, ...] = ()


class Backend(Protocol):
    """Where the control center reads from and acts on."""

    @property
    def location(self) -> str: ...

    async def frame(self) -> Frame: ...

    async def history(self) -> HistoryView: ...

    async def activate_kill(self, reason: str) -> ActionResult: ...

    async def kill_seen(self) -> str | None:
        """What the operator is looking at as a deactivation starts, handed back to
        ``deactivate_kill`` so that a kill raised meanwhile is not cleared (None: unchecked)."""
        ...

    async def deactivate_kill(self, reason: str, seen: str | None = None) -> ActionResult: ...

    async def plan(self, action: str) -> PlanView: ...

    async def apply(self, plan: PlanView) -> ActionResult: ...

    def changes(self) -> AsyncIterator[None]:
        """Yields once the watch is in place, then once per change made by anyone (file
        events or the API's event stream), so that reading after each yield misses nothing."""
        ...

    async def close(self) -> None: ...


def tui_who() -> Who:
    return local_who("tui")
