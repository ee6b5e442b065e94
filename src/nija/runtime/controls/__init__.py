"""Pre-trade controls (DESIGN.md section 8): price collar, notional cap, throttles,
daily caps, duplicate filter, a runaway breaker that latches the kill switch, and data
quality that denies instead of disabling a check.

The public API, for ``nija run``'s order gate and for any guarded bot:

- ``ControlChain(settings, clock, quality=, on_trip=)``: ``admit(request, reference,
  open_orders=, amend=) -> Verdict | None``, ``filled()``, ``tripped``, ``figures()``;
- ``Reference(price, at, source)`` and ``ReferenceBook`` (newest price per symbol);
- ``Verdict(code, reason)`` with ``DenialCode`` (a ``StrEnum``); ``Trigger`` for the kill;
- ``DataQuality``: bad inputs that deny orders until resolved;
- ``GateControls``: the chain wired to a reference book and a broker, for ``OrderGate``."""

from nija.runtime.controls.chain import ControlChain
from nija.runtime.controls.codes import RUNAWAY_ORDERS, THROTTLES, DenialCode
from nija.runtime.controls.gate_adapter import GateControls
from nija.runtime.controls.quality import DataQuality
from nija.runtime.controls.reference import Reference, ReferenceBook, usable_price
from nija.runtime.controls.verdict import Trigger, Verdict

__all__ = [
    "RUNAWAY_ORDERS",
    "THROTTLES",
    "ControlChain",
    "DataQuality",
    "DenialCode",
    "GateControls",
    "Reference",
    "ReferenceBook",
    "Trigger",
    "Verdict",
    "usable_price",
]
