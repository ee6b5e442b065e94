"""The kill receipt: what the exchange (or the paper ledger) says remains after a kill.

After a kill, and after any move out of live trading, the running bot asks its broker
until none of its own orders is open, then reads positions and balances and writes
``.nija_kill_receipt.json`` (atomically, durably). A receipt that the broker could not
confirm within the deadline says so: ``confirmed`` is false and ``verdict`` names what
remains. ``status`` (CLI, ``--json``, API, web, TUI) shows the newest receipt; readers
are tolerant (no receipt, or an unreadable one, is "none yet", never an error)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from nija.store.atomic import write_atomic

RECEIPT_FILE = ".nija_kill_receipt.json"


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ReceiptOrder(_Item):
    id: str
    symbol: str
    side: str
    type: str
    quantity: float
    price: float | None = None


class ReceiptPosition(_Item):
    symbol: str
    quantity: float
    value: float  # in the quote currency, at the latest known price


class BrokerReceipt(_Item):
    broker: str  # "paper", "ccxt:kraken"
    confirmed: bool  # the broker answered and lists none of the bot's own orders as open
    own_open: tuple[ReceiptOrder, ...] = ()
    foreign_open: tuple[ReceiptOrder, ...] = ()  # on the account, not placed by this bot: left alone
    positions: tuple[ReceiptPosition, ...] = ()  # the bot's own, still held
    residual_exposure: float = 0.0  # sum of the positions' values, quote currency
    error: str | None = None  # why the broker could not be read, if it could not


class KillReceipt(_Item):
    trigger: str  # "kill" or "left live"
    reason: str
    run_id: str
    noticed_at: str  # ISO time the bot noticed the kill
    written_at: str
    confirmed: bool  # every broker confirmed none of the bot's own orders open
    seconds_to_flat: float | None  # kill noticed -> confirmed (None while unconfirmed)
    deadline_s: float
    within_deadline: bool
    attempts: int
    currency: str
    brokers: tuple[BrokerReceipt, ...] = ()

    @property
    def residual_exposure(self) -> float:
        return sum(b.residual_exposure for b in self.brokers)

    @property
    def verdict(self) -> str:
        own = sum(len(b.own_open) for b in self.brokers)
        foreign = sum(len(b.foreign_open) for b in self.brokers)
        names = ", ".join(b.broker for b in self.brokers) or "no broker"
        left = f"{foreign} foreign order(s) left alone; " if foreign else ""
        exposure = f"residual exposure {self.residual_exposure:,.2f} {self.currency}"
        if self.confirmed:
            return f"FLAT: confirmed by {names} in {self.seconds_to_flat:.3f} s; {left}{exposure}"
        errors = "; ".join(f"{b.broker}: {b.error}" for b in self.brokers if b.error)
        why = f"{own} own order(s) still listed open" if own else "the broker could not be read"
        return (
            f"NOT CONFIRMED after {self.deadline_s:g} s: {why}{f' ({errors})' if errors else ''}; "
            f"{left}{exposure}. Check the exchange now; the bot keeps retrying"
        )


def write_receipt(data_dir: Path, receipt: KillReceipt) -> None:
    write_atomic(data_dir / RECEIPT_FILE, receipt.model_dump_json(indent=2).encode())


def read_receipt(data_dir: Path) -> KillReceipt | None:
    try:
        return KillReceipt.model_validate_json((data_dir / RECEIPT_FILE).read_bytes())
    except (OSError, ValidationError):
        return None


def receipt_view(receipt: KillReceipt | None) -> dict[str, object] | None:
    """For ``status --json`` and the API: the receipt plus its verdict line."""
    if receipt is None:
        return None
    data = receipt.model_dump(mode="json")
    data["verdict"] = receipt.verdict
    data["residual_exposure"] = receipt.residual_exposure
    return data
