"""The bridge's reading of freqtrade's answers (pure; shapes as freqtrade 2026.9's
``/show_config``, ``/balance`` and ``/status`` give them): the guard's policy, with
freqtrade's open trades as the bot's own positions, and an unreadable answer unknown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nija.integrations.freqtrade.account import freqtrade_reconciliation

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CONFIG = {"stake_currency": "USDT", "trading_mode": "spot", "exchange": "kraken", "dry_run": True}


def balance(*rows: tuple[str, float, float]) -> dict[str, Any]:
    """(currency, balance, est_stake) rows, as freqtrade lists them."""
    return {
        "currencies": [
            {"currency": c, "balance": b, "free": b, "used": 0.0, "est_stake": v, "is_position": False}
            for c, b, v in rows
        ]
    }


def trade(amount: float, *, open_order: bool) -> dict[str, Any]:
    order = {"order_id": "o-1", "ft_order_side": "buy", "order_type": "limit", "amount": amount or 0.0025}
    return {
        "trade_id": 1,
        "pair": "BTC/USDT",
        "base_currency": "BTC",
        "amount": amount,
        "orders": [{**order, "is_open": open_order, "filled": 0.0 if open_order else amount, "safe_price": 40e3}],
    }


def test_stake_currency_only_matches() -> None:
    rec = freqtrade_reconciliation(NOW, CONFIG, balance(("USDT", 1000.0, 1000.0)), [])
    assert (rec.status, rec.own_open, rec.own_positions, rec.unexplained) == ("matching", 0, 0, ())


def test_what_freqtrades_open_trades_hold_is_explained_the_rest_is_not() -> None:
    rows = balance(("USDT", 900.0, 900.0), ("BTC", 0.7, 28_000.0))
    rec = freqtrade_reconciliation(NOW, CONFIG, rows, [trade(0.5, open_order=False)])
    assert rec.status == "unexplained"
    (extra,) = rec.unexplained
    assert extra.currency == "BTC"
    assert abs(extra.quantity - 0.2) < 1e-12
    assert extra.value is not None
    assert abs(extra.value - 8_000.0) < 1e-6
    assert (rec.own_open, rec.own_positions) == (0, 1)


def test_a_resting_entry_is_the_bots_own_open_order_and_explains_nothing() -> None:
    resting = trade(0.0, open_order=True)  # freqtrade: amount 0 until the entry fills
    rec = freqtrade_reconciliation(NOW, CONFIG, balance(("USDT", 900.0, 900.0)), [resting])
    assert (rec.status, rec.own_open, rec.own_positions) == ("matching", 1, 0)
    rows = balance(("USDT", 900.0, 900.0), ("BTC", 0.0025, 100.0))
    assert freqtrade_reconciliation(NOW, CONFIG, rows, [resting]).status == "unexplained"


def test_a_holding_without_a_price_is_unexplained_with_no_value() -> None:
    rec = freqtrade_reconciliation(NOW, CONFIG, balance(("USDT", 1.0, 1.0), ("DOGE", 10.0, 0.0)), [])
    assert [(u.currency, u.value) for u in rec.unexplained] == [("DOGE", None)]


def test_an_answer_of_an_unknown_shape_is_unknown_never_flat() -> None:
    for bad in ({}, {"currencies": [{"currency": "BTC"}]}, {"currencies": None}):
        rec = freqtrade_reconciliation(NOW, CONFIG, bad, [])
        assert rec.status == "unknown"
        assert rec.error is not None
        assert "freqtrade's answer could not be read" in rec.error
    assert freqtrade_reconciliation(NOW, CONFIG, balance(), [{"pair": "BTC/USDT"}]).status == "unknown"
    assert freqtrade_reconciliation(NOW, {"trading_mode": "spot"}, balance(), []).status == "unknown"


def test_futures_are_not_reconciled_so_their_exposure_is_unknown() -> None:
    rec = freqtrade_reconciliation(NOW, {**CONFIG, "trading_mode": "futures"}, balance(), [])
    assert rec.status == "unknown"
    assert rec.error is not None
    assert "spot only" in rec.error
    position = {"currencies": [{"currency": "BTC/USDT:USDT", "balance": 0, "is_position": True}]}
    assert freqtrade_reconciliation(NOW, CONFIG, position, []).status == "unknown"
