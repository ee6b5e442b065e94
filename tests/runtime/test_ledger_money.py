"""Money in the paper ledger is exact (Decimal), and a ledger written before (floats only)
is migrated when opened: every amount kept, nothing rounded, the old columns untouched."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from nija.runtime.brokers.ledger import LEDGER_FILE, PaperLedger
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.settings import PaperSettings
from tests.runtime.runtime_helpers import candle

# The ledger's schema before exact money: what a bot of the previous release left behind.
_FLOAT_SCHEMA = """
CREATE TABLE account (id INTEGER PRIMARY KEY CHECK (id = 1), starting_cash REAL NOT NULL, cash REAL NOT NULL,
    realized REAL NOT NULL, fees REAL NOT NULL);
CREATE TABLE positions (symbol TEXT PRIMARY KEY, quantity REAL NOT NULL, average_price REAL NOT NULL);
CREATE TABLE orders (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, run_id TEXT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL, quantity REAL NOT NULL, price REAL,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL);
CREATE TABLE fills (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, run_id TEXT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, quantity REAL NOT NULL, price REAL NOT NULL, fee REAL NOT NULL,
    realized REAL NOT NULL, timestamp REAL NOT NULL);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at REAL NOT NULL, start_equity REAL NOT NULL,
    ended_at REAL, end_equity REAL);
"""
CASH = 0.1 + 0.2 + 999.4  # a float with rounding noise in its last digits
FEE = 0.30000000000000004


def _old_ledger(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(_FLOAT_SCHEMA)
    db.execute("INSERT INTO account VALUES (1, 1000.0, ?, 1.5, ?)", (CASH, FEE))
    db.execute("INSERT INTO positions VALUES ('BTC/USDT', 0.5, 101.25)")
    db.execute(
        "INSERT INTO fills (order_id, run_id, symbol, side, quantity, price, fee, realized, timestamp)"
        " VALUES ('paper-00000001', 'r1', 'BTC/USDT', 'buy', 0.5, 101.25, ?, 0.0, 1.0)",
        (FEE,),
    )
    db.execute("INSERT INTO runs VALUES ('r1', 1.0, 1000.0, 2.0, 999.75)")
    db.commit()
    db.close()


def test_an_old_float_ledger_is_migrated_with_every_amount_kept_exactly(tmp_path: Path) -> None:
    _old_ledger(tmp_path / LEDGER_FILE)
    broker = PaperBroker(tmp_path, PaperSettings(starting_cash=5.0))  # the ledger's account wins
    account = broker.account()
    assert (account.cash, account.realized_pnl, account.fees) == (CASH, 1.5, FEE)  # the same floats
    assert broker.starting_cash == 1000.0
    assert broker.held("BTC/USDT") == 0.5
    db = sqlite3.connect(tmp_path / LEDGER_FILE)
    exact = db.execute("SELECT cash_exact, fees_exact, cash, fees FROM account").fetchone()
    assert exact == (repr(CASH), repr(FEE), CASH, FEE)  # the old columns are left as they were
    assert db.execute("SELECT fee_exact FROM fills").fetchone() == (repr(FEE),)
    assert db.execute("SELECT start_equity_exact, end_equity_exact FROM runs").fetchone() == ("1000.0", "999.75")
    totals = broker.ledger.run_totals("r1")
    assert (totals.fees, totals.start_equity, totals.end_equity) == (
        Decimal(repr(FEE)),
        Decimal(1000),
        Decimal("999.75"),
    )


def test_opening_a_migrated_ledger_again_changes_nothing(tmp_path: Path) -> None:
    _old_ledger(tmp_path / LEDGER_FILE)
    PaperLedger(tmp_path / LEDGER_FILE, 5.0).close()
    first = sqlite3.connect(tmp_path / LEDGER_FILE).execute("SELECT * FROM account").fetchall()
    state = PaperLedger(tmp_path / LEDGER_FILE, 5.0).load()
    assert sqlite3.connect(tmp_path / LEDGER_FILE).execute("SELECT * FROM account").fetchall() == first
    assert state.cash == Decimal(repr(CASH))


def test_many_small_fills_leave_the_cash_exact(tmp_path: Path) -> None:
    settings = PaperSettings(starting_cash=1_000.0, maker_fee_pct=0.1, taker_fee_pct=0.1, slippage_pct=0.0)
    broker = PaperBroker(tmp_path, settings)
    for _ in range(200):
        assert broker.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.1, 1.0)).accepted
        broker.on_candle(candle(1.0, open_=1.0, low=0.5))
    # 200 buys of 0.1 at 1.0 with a 0.1 % fee: exactly 20.02 spent, as a decimal would say.
    assert broker.ledger.load().cash == Decimal("979.98")
    assert PaperBroker(tmp_path, settings).account().cash == 979.98  # and so after a restart
