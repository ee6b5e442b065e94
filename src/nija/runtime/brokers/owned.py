"""What the bot owns on an exchange account: the client order ids it placed and the
positions its own fills opened, persisted in the data directory.

The exchange account may hold orders and balances of people and other systems; the bot
may cancel, amend or sell only what this ledger says it created. Every client id is
written (durably, atomically) *before* the order is sent, so a crash between sending
and the exchange's answer still leaves the bot knowing the order is its own. One file
per account (exchange id, sandbox and a fingerprint of the API key) and per instance of
the data directory (``nija.runtime.instance``): another account's ids never claim this
account's orders or balances, and neither does a copy of the directory (``cp -r`` of a
live bot, a restored backup) claim the original's. Records of another instance (or of a
NIJA that predates instances) are foreign: listed, never adopted, cancelled or sold,
until the operator adopts them (``nija adopt-orders``, ``adopt_foreign``).

A file that cannot be read is never replaced silently: the bot then owns nothing it can
prove, so it touches nothing on the exchange (the error is raised to the caller)."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from nija.domain.errors import StorageCorrupt
from nija.runtime.instance import Instance, instance_of
from nija.store.atomic import write_atomic

FILE_PREFIX = ".nija_live_orders"
CLIENT_ID_PREFIX = "nija"
KEEP_CLOSED = 2_000  # closed entries kept so that late fills and restarts still recognise them
_EPS = 1e-12


def account_key(exchange_id: str, api_key: str, *, sandbox: bool) -> str:
    """Stable and not secret: a hash of the key, never the key itself."""
    digest = hashlib.sha256(f"{exchange_id}\0{int(sandbox)}\0{api_key}".encode()).hexdigest()[:16]
    return f"{exchange_id}{'-sandbox' if sandbox else ''}-{digest}"


def foreign_notice(count: int) -> str:
    noun = "open order on the account was" if count == 1 else "open orders on the account were"
    return f"{count} {noun} not placed by this bot: left alone"


def new_client_id() -> str:
    """18 lowercase alphanumerics: fits every venue's rule (Kraken cl_ord_id <= 18, OKX
    clOrdId alphanumeric <= 32, Binance newClientOrderId <= 36, Bybit orderLinkId <= 36)."""
    return CLIENT_ID_PREFIX + secrets.token_hex(7)


@dataclass(frozen=True, slots=True)
class OwnedOrder:
    client_id: str
    symbol: str
    side: str
    type: str
    quantity: float
    price: float | None
    state: str  # "sent" (answer not seen yet), "open", "closed"
    exchange_id: str | None = None
    filled: float = 0.0  # already booked into the positions


@dataclass(frozen=True, slots=True)
class OwnedPosition:
    symbol: str
    quantity: float
    cost: float  # quote spent on what is still held (average cost)

    @property
    def average_price(self) -> float:
        return self.cost / self.quantity if self.quantity > _EPS else 0.0


LEGACY = "legacy"  # what a record written before instances existed is absorbed as


def foreign_records_notice(paths: tuple[Path, ...], directory: Path) -> str:
    names = ", ".join(p.name for p in paths)
    return (
        "orders and positions recorded by another instance of this data directory (a copy, a restore, "
        f"or a NIJA without directory identities) are not this bot's: never cancelled or sold by it ({names}). "
        f"If this really is the directory that placed them (moved or restored), stop the bot and run: "
        f"nija adopt-orders --data-dir {directory}"
    )


class OwnedBook:
    def __init__(self, data_dir: Path, account: str, instance: Instance | None = None) -> None:
        self.account = account
        self.data_dir = data_dir
        self.instance = instance if instance is not None else instance_of(data_dir)
        self.path = data_dir / f"{FILE_PREFIX}.{account}.{self.instance.id}.json"
        self._lock = threading.RLock()
        self.orders: dict[str, OwnedOrder] = {}
        self.positions: dict[str, OwnedPosition] = {}
        self._absorbed: list[str] = []  # foreign records adopted into this one (never merged twice)
        self._load()

    @property
    def foreign_records(self) -> tuple[Path, ...]:
        """This account's records written by another instance (or before instances)."""
        legacy = self.data_dir / f"{FILE_PREFIX}.{self.account}.json"
        others = sorted(p for p in self.data_dir.glob(f"{FILE_PREFIX}.{self.account}.*.json") if p != self.path)
        return ((legacy,) if legacy.exists() else ()) + tuple(others)

    def adopt_foreign(self) -> int:
        """The operator's word that every foreign record is this directory's own (it was moved
        or restored): merged into this instance's record, then removed. Returns how many.
        Crash-safe: a record already merged (named in ``absorbed``) is only removed."""
        adopted = 0
        with self._lock:
            for path in self.foreign_records:
                doc = _read_doc(path, self.account)
                source = str(doc.get("instance") or LEGACY)
                if source not in self._absorbed:
                    for order in _orders(path, doc).values():
                        self.orders.setdefault(order.client_id, order)
                    for held in _positions(path, doc).values():
                        self._add_position(held)
                    self._absorbed.append(source)
                    self._save()
                path.unlink()
                adopted += 1
        return adopted

    def _add_position(self, held: OwnedPosition) -> None:
        mine = self.positions.get(held.symbol) or OwnedPosition(held.symbol, 0.0, 0.0)
        self.positions[held.symbol] = OwnedPosition(held.symbol, mine.quantity + held.quantity, mine.cost + held.cost)

    # -- reading -----------------------------------------------------------------------
    @property
    def ever_traded(self) -> bool:
        """Has this bot ever sent an order to this account (from any run)?"""
        return bool(self.orders) or bool(self.positions)

    def owns(self, client_id: str | None, exchange_id: str | None) -> OwnedOrder | None:
        with self._lock:
            if client_id and client_id in self.orders:
                return self.orders[client_id]
            if exchange_id:
                return next((o for o in self.orders.values() if o.exchange_id == exchange_id), None)
            return None

    def unsettled(self) -> tuple[OwnedOrder, ...]:
        with self._lock:
            return tuple(o for o in self.orders.values() if o.state != "closed")

    def position(self, symbol: str) -> float:
        held = self.positions.get(symbol)
        return held.quantity if held else 0.0

    # -- writing (each one durable before it returns) ------------------------------------
    def record_sent(self, order: OwnedOrder) -> None:
        with self._lock:
            self.orders[order.client_id] = order
            self._save()

    def record_open(self, client_id: str, exchange_id: str) -> None:
        # Not fsynced: lost in a crash, the "sent" entry's client id still finds the order.
        self._update(client_id, durable=False, state="open", exchange_id=exchange_id)

    def record_closed(self, client_id: str) -> None:
        self._update(client_id, state="closed")

    def record_filled(self, client_id: str, filled: float, price: float, *, closed: bool) -> float:
        """Book the part of ``filled`` (cumulative) not booked yet; returns that new part."""
        with self._lock:
            order = self.orders.get(client_id)
            if order is None:
                return 0.0
            new = max(filled - order.filled, 0.0)
            if new > _EPS:
                self._book(order.symbol, order.side, new, price)
            self.orders[client_id] = replace(
                order, filled=max(filled, order.filled), state="closed" if closed else order.state
            )
            self._save()
            return new

    def _book(self, symbol: str, side: str, quantity: float, price: float) -> None:
        held = self.positions.get(symbol) or OwnedPosition(symbol, 0.0, 0.0)
        if side == "buy":
            held = OwnedPosition(symbol, held.quantity + quantity, held.cost + quantity * price)
        else:
            left = max(held.quantity - quantity, 0.0)
            held = OwnedPosition(symbol, left, held.average_price * left)
        if held.quantity > _EPS:
            self.positions[symbol] = held
        else:
            self.positions.pop(symbol, None)

    def _update(self, client_id: str, *, durable: bool = True, **changes: Any) -> None:
        with self._lock:
            order = self.orders.get(client_id)
            if order is None:
                return
            self.orders[client_id] = replace(order, **changes)
            self._save(durable=durable)

    # -- file ------------------------------------------------------------------------
    def _load(self) -> None:
        if not self.path.exists():
            return
        doc = _read_doc(self.path, self.account)
        if doc.get("instance") != self.instance.id:  # renamed by hand: the name alone proves nothing
            raise _corrupt(self.path, f"it was written by instance {doc.get('instance')!r}")
        self.orders = _orders(self.path, doc)
        self.positions = _positions(self.path, doc)
        self._absorbed = [str(i) for i in doc.get("absorbed", ())]

    def _save(self, *, durable: bool = True) -> None:
        closed = [c for c, o in self.orders.items() if o.state == "closed"]
        for client_id in closed[: max(len(closed) - KEEP_CLOSED, 0)]:
            del self.orders[client_id]
        doc = {
            "version": 2,
            "account": self.account,
            "instance": self.instance.id,
            "absorbed": self._absorbed,
            "orders": [asdict(o) for o in self.orders.values()],
            "positions": [asdict(p) for p in self.positions.values()],
        }
        write_atomic(self.path, json.dumps(doc, indent=1).encode(), durable=durable, mode=0o600)


def _read_doc(path: Path, account: str) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise _corrupt(path, str(exc)) from exc
    except ValueError as exc:
        raise _corrupt(path, str(exc)) from exc
    if not isinstance(doc, dict):
        raise _corrupt(path, "it is not a JSON object")
    if doc.get("account") != account:
        raise _corrupt(path, f"it belongs to account {doc.get('account')!r}")
    return doc


def _orders(path: Path, doc: dict[str, Any]) -> dict[str, OwnedOrder]:
    try:
        return {o["client_id"]: OwnedOrder(**o) for o in doc["orders"]}
    except (KeyError, TypeError) as exc:
        raise _corrupt(path, str(exc)) from exc


def _positions(path: Path, doc: dict[str, Any]) -> dict[str, OwnedPosition]:
    try:
        return {p["symbol"]: OwnedPosition(**p) for p in doc["positions"]}
    except (KeyError, TypeError) as exc:
        raise _corrupt(path, str(exc)) from exc


def _corrupt(path: Path, detail: str) -> StorageCorrupt:
    return StorageCorrupt(
        f"The bot's record of its own live orders {path} cannot be read ({detail}); "
        "the bot touches nothing on the exchange until it can",
        f"Restore {path.name} from a backup, or move it away if this bot never traded live on this account "
        "(then its earlier orders count as not placed by this bot and are left alone)",
    )
