"""The paper broker's ledger: SQLite in the data directory, separate from anything live.

Every order, status change and fill is written in one transaction together with the
account and the position it changes, so a crash or restart finds a consistent book."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from nija.domain.errors import StorageNotWritable
from nija.runtime.brokers.base import Holding
from nija.runtime.orders import Fill, Order, OrderStatus, OrderType, Side

LEDGER_FILE = ".nija_paper.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    starting_cash REAL NOT NULL, cash REAL NOT NULL, realized REAL NOT NULL, fees REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    symbol TEXT PRIMARY KEY, quantity REAL NOT NULL, average_price REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, run_id TEXT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL, quantity REAL NOT NULL,
    price REAL, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, run_id TEXT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, quantity REAL NOT NULL, price REAL NOT NULL,
    fee REAL NOT NULL, realized REAL NOT NULL, timestamp REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at REAL NOT NULL, start_equity REAL NOT NULL,
    ended_at REAL, end_equity REAL
);
"""


@dataclass(frozen=True, slots=True)
class LedgerState:
    starting_cash: float
    cash: float
    realized: float
    fees: float
    holdings: dict[str, Holding]
    open_orders: list[Order]
    next_seq: int


@dataclass(frozen=True, slots=True)
class RunTotals:
    orders: int
    fills: int
    cancelled: int
    rejected: int
    fees: float
    realized: float
    start_equity: float
    end_equity: float | None


class PaperLedger:
    def __init__(self, path: Path, starting_cash: float) -> None:
        self.path = path
        try:
            # Used from the bot loop and the kill watcher; the paper broker serialises access.
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO account VALUES (1, ?, ?, 0, 0)", (starting_cash, starting_cash))
        except sqlite3.Error as exc:
            raise StorageNotWritable(
                f"Cannot open the paper ledger {path}: {exc}",
                f"Check that {path.parent} is writable; move a damaged {path.name} aside to start a new ledger",
            ) from exc

    def load(self) -> LedgerState:
        start, cash, realized, fees = self._db.execute(
            "SELECT starting_cash, cash, realized, fees FROM account WHERE id = 1"
        ).fetchone()
        holdings = {
            s: Holding(s, q, p) for s, q, p in self._db.execute("SELECT symbol, quantity, average_price FROM positions")
        }
        rows = self._db.execute(
            "SELECT id, symbol, side, type, quantity, price FROM orders WHERE status = 'open' ORDER BY seq"
        ).fetchall()
        orders = [Order(i, s, Side(sd), OrderType(t), q, p) for i, s, sd, t, q, p in rows]
        (seq,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM orders").fetchone()
        return LedgerState(start, cash, realized, fees, holdings, orders, int(seq) + 1)

    def new_account(self, starting_cash: float) -> int:
        """A fresh paper account: cash back to ``starting_cash``, no positions, every open
        paper order cancelled. The orders, fills and runs before it stay for reports.
        Returns how many open orders were cancelled."""
        with self._tx():
            cancelled = self._db.execute(
                "UPDATE orders SET status = 'cancelled', reason = 'new paper account' WHERE status = 'open'"
            ).rowcount
            self._db.execute("DELETE FROM positions")
            self._db.execute(
                "UPDATE account SET starting_cash = ?, cash = ?, realized = 0, fees = 0 WHERE id = 1",
                (starting_cash, starting_cash),
            )
        return int(cancelled)

    def begin_run(self, run_id: str, started_at: float, start_equity: float) -> None:
        with self._tx():
            self._db.execute("INSERT INTO runs VALUES (?, ?, ?, NULL, NULL)", (run_id, started_at, start_equity))

    def end_run(self, run_id: str, ended_at: float, end_equity: float) -> None:
        with self._tx():
            self._db.execute(
                "UPDATE runs SET ended_at = ?, end_equity = ? WHERE run_id = ?", (ended_at, end_equity, run_id)
            )

    def add_order(self, order: Order, run_id: str, created_at: float) -> None:
        with self._tx():
            self._db.execute(
                "INSERT INTO orders (id, run_id, symbol, side, type, quantity, price, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                (order.id, run_id, order.symbol, order.side, order.type, order.quantity, order.price, created_at),
            )

    def set_status(self, order_id: str, status: OrderStatus, reason: str = "") -> None:
        self.set_statuses([order_id], status, reason)

    def set_statuses(self, order_ids: list[str], status: OrderStatus, reason: str = "") -> None:
        """One transaction for many orders: a kill cancels hundreds at once."""
        with self._tx():
            self._db.executemany(
                "UPDATE orders SET status = ?, reason = ? WHERE id = ?", [(status, reason, i) for i in order_ids]
            )

    def add_fill(
        self, fill: Fill, run_id: str, *, cash: float, realized: float, fees: float, holding: Holding | None
    ) -> None:
        with self._tx():
            self._db.execute(
                "INSERT INTO fills (order_id, run_id, symbol, side, quantity, price, fee, realized, timestamp)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fill.order_id,
                    run_id,
                    fill.symbol,
                    fill.side,
                    fill.quantity,
                    fill.price,
                    fill.fee,
                    fill.realized_pnl,
                    fill.timestamp,
                ),
            )
            self._db.execute("UPDATE orders SET status = 'filled' WHERE id = ?", (fill.order_id,))
            self._db.execute("UPDATE account SET cash = ?, realized = ?, fees = ? WHERE id = 1", (cash, realized, fees))
            if holding is None:
                self._db.execute("DELETE FROM positions WHERE symbol = ?", (fill.symbol,))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO positions VALUES (?, ?, ?)",
                    (holding.symbol, holding.quantity, holding.average_price),
                )

    def run_totals(self, run_id: str) -> RunTotals:
        counts = dict(
            self._db.execute(
                "SELECT status, COUNT(*) FROM orders WHERE run_id = ? GROUP BY status", (run_id,)
            ).fetchall()
        )
        fills, fees, realized = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(fee), 0), COALESCE(SUM(realized), 0) FROM fills WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        row = self._db.execute("SELECT start_equity, end_equity FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        start_equity, end_equity = row if row else (0.0, None)
        return RunTotals(
            orders=sum(counts.values()),
            fills=fills,
            cancelled=counts.get("cancelled", 0),
            rejected=counts.get("rejected", 0),
            fees=fees,
            realized=realized,
            start_equity=start_equity,
            end_equity=end_equity,
        )

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> _Tx:
        return _Tx(self._db, self.path)


class _Tx:
    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db, self._path = db, path

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        if self._db.in_transaction:  # SQLite rolls back by itself on some errors (a full disk)
            self._db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StorageNotWritable(
                f"Cannot write the paper ledger {self._path}: {exc}",
                "Check free disk space and permissions of the data directory",
            ) from exc
