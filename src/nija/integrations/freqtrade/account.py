"""The freqtrade bridge's account checks, for ``nija live request`` (issue 15).

freqtrade holds the exchange keys, so the bridge reads the account through freqtrade's
own REST API (``/show_config``, ``/balance``, ``/status``) at start and every
``exchange.reconcile_s``, in every state, and writes ``.nija_exchange_checks.json`` with
the guard's policy (``reconciliation``, ``AccountChecks``), not a copy of it:
- a holding besides the stake currency is unexplained unless freqtrade's own open trades
  hold it (the bot's positions: freqtrade accounts for them, as ``nija run``'s fills do);
  what its trades do not cover counts, beyond ``exchange.exposure_tolerance``;
- the open orders of freqtrade's open trades are the bot's own (``own_open``): a live
  request names them and freqtrade's open positions, so nothing carries into live
  trading unsaid;
- an answer that cannot be read (freqtrade down, refusing, or a shape the bridge does not
  know, e.g. futures positions) is "unknown", never flat;
- the key's permissions cannot be read through freqtrade: "unknown", as the guard says for
  a venue it cannot attest (``exchange.require_key_attestation`` then decides).
freqtrade in dry-run answers with its simulated wallet (``dry_run_wallet``): the checks
then describe that wallet, and the real account is read once freqtrade trades live."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nija.exchange_checks import ExchangeChecks, KeyAttestation, Reconciliation
from nija.guarded.account import AccountChecks, CheckThread, reconciliation, unknown
from nija.integrations.freqtrade.client import FreqtradeClient, FreqtradeRefused, FreqtradeUnreachable, plain
from nija.runtime.brokers.base import BookReading
from nija.runtime.orders import Order, OrderType, Side

KEY_UNKNOWN = "freqtrade holds the API key: its permissions cannot be read through freqtrade's REST API"
NO_DEAD_MAN = "not armed by the bridge (freqtrade's REST API offers none)"
_EXITS = frozenset({"sell", "stoploss"})  # freqtrade's ft_order_side of a spot long's exits


def freqtrade_reconciliation(
    now: datetime, config: Mapping[str, Any], balance: Mapping[str, Any], trades: list[dict[str, Any]]
) -> Reconciliation:
    """freqtrade's three answers as the guard's policy reads them (pure)."""
    try:
        if config.get("trading_mode", "spot") != "spot":
            return unknown(
                now, f"freqtrade trades {plain(config.get('trading_mode'), 20)}: the bridge reconciles spot only"
            )
        quote = str(config["stake_currency"])
        totals: dict[str, float] = {}
        marks: dict[str, float] = {}
        for row in balance["currencies"]:
            if row.get("is_position"):
                return unknown(now, "freqtrade reports derivative positions: the bridge reconciles spot only")
            currency, held = str(row["currency"]), float(row["balance"])
            totals[currency] = totals.get(currency, 0.0) + held
            value = float(row.get("est_stake") or 0.0)
            if held > 0 and value > 0:
                marks[f"{currency}/{quote}"] = value / held
        explained: dict[str, float] = {}
        own: list[Order] = []
        for trade in trades:
            base = str(trade["base_currency"])
            explained[base] = explained.get(base, 0.0) + _held_by(trade)
            own.extend(_order(trade, order) for order in trade.get("orders") or [] if order.get("is_open", True))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return unknown(now, plain(f"freqtrade's answer could not be read ({type(exc).__name__}: {exc})"))
    return reconciliation(now, BookReading(own_open=tuple(own)), totals, quote, marks, explained)


def _held_by(trade: Mapping[str, Any]) -> float:
    """What freqtrade accounts for in a trade: its ``amount``, what its entries filled (0
    while the entry rests; the order is then the bot's own open order)."""
    return max(float(trade["amount"]), 0.0)


def _order(trade: Mapping[str, Any], order: Mapping[str, Any]) -> Order:
    side = Side.SELL if order.get("ft_order_side") in _EXITS else Side.BUY
    kind = OrderType.MARKET if order.get("order_type") == "market" else OrderType.LIMIT
    price = order.get("safe_price")
    return Order(
        id=plain(order.get("order_id"), 100),
        symbol=plain(trade.get("pair"), 40),
        side=side,
        type=kind,
        quantity=float(order.get("amount") or 0.0),
        price=float(price) if price is not None else None,
    )


class FreqtradeAccountWatch(CheckThread):
    """The checks from the bridge's own thread (its own client: the watcher's thread keeps
    reacting to NIJA's state while freqtrade is slow to answer here)."""

    def __init__(self, client: FreqtradeClient, checks: AccountChecks, *, every_s: float) -> None:
        super().__init__(every_s, "nija-bridge-account")
        self.client, self.checks = client, checks

    def check_once(self) -> ExchangeChecks:
        now = datetime.now(UTC)
        try:
            config = self.client.show_config()
            balance = self.client.balance()
            trades = self.client.open_trades()
        except (FreqtradeUnreachable, FreqtradeRefused) as exc:
            rec = unknown(now, f"freqtrade at {self.client.url} did not answer: {exc}")
        else:
            self.checks.venue = plain(config.get("exchange") or self.checks.venue, 40)
            self.checks.quote = plain(config.get("stake_currency") or self.checks.quote, 20)
            rec = freqtrade_reconciliation(now, config, balance, trades)
        if self.checks.attestation_due():
            self.checks.attested(KeyAttestation(checked_at=now, status="unknown", detail=KEY_UNKNOWN))
        return self.checks.record(now, rec)
