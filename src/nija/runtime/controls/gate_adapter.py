"""The control chain as ``nija run``'s order gate calls it: the reference comes from the
bot's reference book (the feed's last trade per symbol), the open-order count from the
broker the order is going to."""

from __future__ import annotations

from nija.runtime.brokers.base import Broker
from nija.runtime.controls.chain import ControlChain
from nija.runtime.controls.reference import ReferenceBook
from nija.runtime.orders import OrderRequest


class GateControls:
    __slots__ = ("chain", "references")

    def __init__(self, chain: ControlChain, references: ReferenceBook) -> None:
        self.chain = chain
        self.references = references

    def __call__(self, request: OrderRequest, broker: Broker, *, amend: bool = False) -> tuple[str, str] | None:
        verdict = self.chain.admit(
            request, self.references.get(request.symbol), open_orders=len(broker.open_orders()), amend=amend
        )
        return None if verdict is None else verdict.pair()
