"""The paper broker's ledger: SQLite in the data directory, separate from anything live.

Every order, status change and fill is written in one transaction together with the
account and the position it changes, so a crash or restart finds a consistent book.

Money is exact: every amount of the account, the fills and the runs is kept as a decimal
string in its ``*_exact`` column, which is what the ledger reads back (``Decimal``);
thousands of fills no longer drift the cash by float rounding. The REAL column beside
each is still written, the same amount as a float, for readers of the older format.
A ledger from before (floats only) is migrated when opened, in one transaction: each
float becomes its shortest exact decimal (``repr``), so nothing is lost or rounded."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from nija.domain.errors import StorageNotWritable
from nija.runtime.brokers.base import Holding
from nija.runtime.orders import Fill, Order, OrderStatus, OrderType, Side

LEDGER_FILE = ".nija_paper.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    starting_cash REAL NOT NULL, cash REAL NOT NULL, realized REAL NOT NULL, fees REAL NOT NULL,
    starting_cash_exact TEXT, cash_exact TEXT, realized_exact TEXT, fees_exact TEXT
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
    fee REAL NOT NULL, realized REAL NOT NULL, timestamp REAL NOT NULL,
    fee_exact TEXT, realized_exact TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at REAL NOT NULL, start_equity REAL NOT NULL,
    ended_at REAL, end_equity REAL,
    start_equity_exact TEXT, end_equity_exact TEXT
);
"""
# (table, exact column, the REAL column it was migrated from)
_EXACT = (
    ("account", "starting_cash_exact", "starting_cash"),
    ("account", "cash_exact", "cash"),
    ("account", "realized_exact", "realized"),
    ("account", "fees_exact", "fees"),
    ("fills", "fee_exact", "fee"),
    ("fills", "realized_exact", "realized"),
    ("runs", "start_equity_exact", "start_equity"),
    ("runs", "end_equity_exact", "end_equity"),
)


def money(value: float | Decimal) -> Decimal:
    """A float amount as the decimal it prints as (``repr``: the shortest that reads back
    to the same float), so 0.1 is Decimal('0.1'), not the binary fraction beside it."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class LedgerState:
    starting_cash: Decimal
    cash: Decimal
    realized: Decimal
    fees: Decimal
    holdings: dict[str, Holding]
    open_orders: list[Order]
    next_seq: int


@dataclass(frozen=True, slots=True)
class LedgerOrder:
    """One order as the ledger holds it, with what was filled (for ccxt-shaped answers)."""

    order: Order
    status: OrderStatus
    reason: str
    created_at: float
    filled: float
    average: float | None
    fee: float
    filled_at: float | None


@dataclass(frozen=True, slots=True)
class RunTotals:
    orders: int
    fills: int
    cancelled: int
    rejected: int
    fees: Decimal
    realized: Decimal
    start_equity: Decimal
    end_equity: Decimal | None


class PaperLedger:
    def __init__(self, path: Path, starting_cash: float | Decimal) -> None:
        self.path = path
        try:
            # Used from the bot loop and the kill watcher; the paper broker serialises access.
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()
            start = money(starting_cash)
            self._db.execute(
                "INSERT OR IGNORE INTO account VALUES (1, ?, ?, 0, 0, ?, ?, '0', '0')",
                (float(start), float(start), str(start), str(start)),
            )
        except sqlite3.Error as exc:
            raise StorageNotWritable(
                f"Cannot open the paper ledger {path}: {exc}",
                f"Check that {path.parent} is writable; move a damaged {path.name} aside to start a new ledger",
            ) from exc

    def _migrate(self) -> None:
        """Give a float-only ledger its exact columns, filled from the floats, in one
        transaction (SQLite's ALTER TABLE is transactional: a crash leaves the old ledger)."""
        columns = {t: {r[1] for r in self._db.execute(f"PRAGMA table_info({t})")} for t in ("account", "fills", "runs")}
        missing = [(t, exact, old) for t, exact, old in _EXACT if exact not in columns[t]]
        if not missing:
            return
        with self._tx():  # the names below are _EXACT's constants, never input: S608 does not apply
            for table, exact, old in missing:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {exact} TEXT")
                rows = self._db.execute(f"SELECT rowid, {old} FROM {table} WHERE {old} IS NOT NULL").fetchall()  # noqa: S608
                self._db.executemany(
                    f"UPDATE {table} SET {exact} = ? WHERE rowid = ?",  # noqa: S608
                    [(str(money(v)), r) for r, v in rows],
                )

    def load(self) -> LedgerState:
        start, cash, realized, fees = map(
            Decimal,
            self._db.execute(
                "SELECT starting_cash_exact, cash_exact, realized_exact, fees_exact FROM account WHERE id = 1"
            ).fetchone(),
        )
        holdings = {
            s: Holding(s, q, p) for s, q, p in self._db.execute("SELECT symbol, quantity, average_price FROM positions")
        }
        rows = self._db.execute(
            "SELECT id, symbol, side, type, quantity, price FROM orders WHERE status = 'open' ORDER BY seq"
        ).fetchall()
        orders = [Order(i, s, Side(sd), OrderType(t), q, p) for i, s, sd, t, q, p in rows]
        (seq,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM orders").fetchone()
        return LedgerState(start, cash, realized, fees, holdings, orders, int(seq) + 1)

    def new_account(self, starting_cash: float | Decimal) -> int:
        """A fresh paper account: cash back to ``starting_cash``, no positions, every open
        paper order cancelled. The orders, fills and runs before it stay for reports.
        Returns how many open orders were cancelled."""
        cash = money(starting_cash)
        with self._tx():
            cancelled = self._db.execute(
                "UPDATE orders SET status = 'cancelled', reason = 'new paper account' WHERE status = 'open'"
            ).rowcount
            self._db.execute("DELETE FROM positions")
            self._db.execute(
                "UPDATE account SET starting_cash = ?, cash = ?, realized = 0, fees = 0, starting_cash_exact = ?,"
                " cash_exact = ?, realized_exact = '0', fees_exact = '0' WHERE id = 1",
                (float(cash), float(cash), str(cash), str(cash)),
            )
        return int(cancelled)

    def begin_run(self, run_id: str, started_at: float, start_equity: Decimal) -> None:
        with self._tx():
            self._db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, NULL, NULL, ?, NULL)",
                (run_id, started_at, float(start_equity), str(start_equity)),
            )

    def end_run(self, run_id: str, ended_at: float, end_equity: Decimal) -> None:
        with self._tx():
            self._db.execute(
                "UPDATE runs SET ended_at = ?, end_equity = ?, end_equity_exact = ? WHERE run_id = ?",
                (ended_at, float(end_equity), str(end_equity), run_id),
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
        self,
        fill: Fill,
        run_id: str,
        *,
        fee: Decimal,
        fill_realized: Decimal,
        cash: Decimal,
        realized: Decimal,
        fees: Decimal,
        holding: Holding | None,
    ) -> None:
        """``fee``, ``fill_realized``: this fill's exact amounts; ``cash``, ``realized`` and
        ``fees``: the account's exact totals after it."""
        with self._tx():
            self._db.execute(
                "INSERT INTO fills (order_id, run_id, symbol, side, quantity, price, fee, realized, timestamp,"
                " fee_exact, realized_exact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    str(fee),
                    str(fill_realized),
                ),
            )
            self._db.execute("UPDATE orders SET status = 'filled' WHERE id = ?", (fill.order_id,))
            self._db.execute(
                "UPDATE account SET cash = ?, realized = ?, fees = ?, cash_exact = ?, realized_exact = ?,"
                " fees_exact = ? WHERE id = 1",
                (float(cash), float(realized), float(fees), str(cash), str(realized), str(fees)),
            )
            if holding is None:
                self._db.execute("DELETE FROM positions WHERE symbol = ?", (fill.symbol,))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO positions VALUES (?, ?, ?)",
                    (holding.symbol, holding.quantity, holding.average_price),
                )

    def orders(
        self, *, order_id: str | None = None, symbol: str | None = None, status: OrderStatus | None = None
    ) -> list[LedgerOrder]:
        """Orders with their fills, oldest first, filtered by any of id, symbol and status."""
        query = (
            "SELECT o.id, o.symbol, o.side, o.type, o.quantity, o.price, o.status, o.reason, o.created_at,"
            " COALESCE(SUM(f.quantity), 0), SUM(f.quantity * f.price), COALESCE(SUM(f.fee), 0), MAX(f.timestamp)"
            " FROM orders o LEFT JOIN fills f ON f.order_id = o.id WHERE 1 = 1"
        )
        args: list[str] = []
        for column, value in (("o.id", order_id), ("o.symbol", symbol), ("o.status", status)):
            if value is not None:
                query += f" AND {column} = ?"  # column names are fixed above; values are bound
                args.append(str(value))
        rows = self._db.execute(query + " GROUP BY o.seq ORDER BY o.seq", args).fetchall()
        return [
            LedgerOrder(
                Order(i, s, Side(sd), OrderType(t), q, p, OrderStatus(st)),
                OrderStatus(st),
                reason,
                created,
                filled,
                notional / filled if filled else None,
                fee,
                filled_at,
            )
            for i, s, sd, t, q, p, st, reason, created, filled, notional, fee, filled_at in rows
        ]

    def run_totals(self, run_id: str) -> RunTotals:
        counts = dict(
            self._db.execute(
                "SELECT status, COUNT(*) FROM orders WHERE run_id = ? GROUP BY status", (run_id,)
            ).fetchall()
        )
        amounts = self._db.execute("SELECT fee_exact, realized_exact FROM fills WHERE run_id = ?", (run_id,)).fetchall()
        fills = len(amounts)
        fees = sum((Decimal(f) for f, _ in amounts), Decimal(0))  # summed exactly, not by SQLite's SUM
        realized = sum((Decimal(r) for _, r in amounts), Decimal(0))
        row = self._db.execute(
            "SELECT start_equity_exact, end_equity_exact FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        start_equity = Decimal(row[0]) if row else Decimal(0)
        end_equity = Decimal(row[1]) if row and row[1] is not None else None
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
