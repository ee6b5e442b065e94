"""The exchange's dead man's switch, per venue: what makes the bot's orders die with it.

One small adapter per mechanism, chosen by ``dead_man_switch_for``:
- ``CancelAfter``: ccxt's unified ``cancelAllOrdersAfter`` where it is a plain REST
  timer (Kraken, OKX, KuCoin-less list: see ``REST_TIMER``); account-wide at the venue.
- ``BinanceUsdmCountdown``: Binance USD-M futures' countdown cancel-all, per symbol, an
  exchange-specific call that ccxt exposes as ``fapiPrivatePostCountdownCancelAll``.
- ``Unavailable``: an honest sentence where there is none (Binance spot, Coinbase) or
  where it needs what a REST bot lacks (Bybit's disconnect protection and Deribit's
  cancel-on-disconnect work over a websocket session).

The switch cancels every order in its scope (the account, or the symbol), not only the
bot's: it is armed only while no foreign order is open in that scope, otherwise the
bot says it is NOT ARMED and why (invariant 8 beats the convenience). It is armed only
by live orders (a bot that never traded live never arms it), refreshed once a third of
its period has passed (while live), and can be paused for announced maintenance by creating the file
``.nija_dead_man_switch_paused`` in the data directory (the bot then disarms it)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

PAUSE_FILE = ".nija_dead_man_switch_paused"

# Venues whose unified cancelAllOrdersAfter is a REST timer a polling bot can keep armed.
REST_TIMER = frozenset({"kraken", "krakenfutures", "okx", "myokx", "okxus", "bitvavo", "woo", "htx", "whitebit"})
# Venues where the mechanism needs a websocket session (ccxt may list it, a REST bot gets nothing).
NEEDS_WEBSOCKET = {
    "bybit": "its disconnect protection (DCP) needs a websocket heartbeat and enabling by the account manager",
    "bybiteu": "its disconnect protection (DCP) needs a websocket heartbeat and enabling by the account manager",
    "bybitid": "its disconnect protection (DCP) needs a websocket heartbeat and enabling by the account manager",
    "deribit": "its cancel-on-disconnect acts on a websocket session, which this REST bot does not hold",
}


class DeadManSwitch(Protocol):
    @property
    def available(self) -> bool: ...

    def arm(self, seconds: int, symbols: Iterable[str]) -> None:
        """(Re)arm for ``symbols`` (ignored by account-wide timers); raises ccxt errors."""

    def disarm(self, symbols: Iterable[str]) -> None: ...

    def scope(self, symbol: str) -> str:
        """What one trigger cancels: ``"account"`` or the symbol."""


class CancelAfter:
    available = True

    def __init__(self, client: Any) -> None:
        self.client = client

    def arm(self, seconds: int, symbols: Iterable[str]) -> None:
        self.client.cancel_all_orders_after(seconds * 1000)

    def disarm(self, symbols: Iterable[str]) -> None:
        self.client.cancel_all_orders_after(0)

    def scope(self, symbol: str) -> str:
        return "account"


class BinanceUsdmCountdown:
    """POST /fapi/v1/countdownCancelAll {symbol, countdownTime ms}; 0 cancels the timer."""

    available = True

    def __init__(self, client: Any) -> None:
        self.client = client

    def arm(self, seconds: int, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            market = self.client.market(symbol)
            self.client.fapiPrivatePostCountdownCancelAll({"symbol": market["id"], "countdownTime": seconds * 1000})

    def disarm(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            market = self.client.market(symbol)
            self.client.fapiPrivatePostCountdownCancelAll({"symbol": market["id"], "countdownTime": 0})

    def scope(self, symbol: str) -> str:
        return symbol


class Unavailable:
    available = False

    def __init__(self, why: str) -> None:
        self.why = why

    def arm(self, seconds: int, symbols: Iterable[str]) -> None:
        return None

    def disarm(self, symbols: Iterable[str]) -> None:
        return None

    def scope(self, symbol: str) -> str:
        return "account"


def dead_man_switch_for(client: Any) -> DeadManSwitch:
    venue = str(client.id)
    if venue in NEEDS_WEBSOCKET:
        return Unavailable(
            f"NOT AVAILABLE over REST on {venue}: {NEEDS_WEBSOCKET[venue]}; orders stay open if this bot dies"
        )
    if venue == "binanceusdm" and hasattr(client, "fapiPrivatePostCountdownCancelAll"):
        return BinanceUsdmCountdown(client)
    if venue in REST_TIMER and client.has.get("cancelAllOrdersAfter"):
        return CancelAfter(client)
    kind = " (spot)" if venue == "binance" else ""
    return Unavailable(f"NOT AVAILABLE on {venue}{kind}: orders stay open if this bot dies")


class DeadManState:
    """Arming policy and the line ``status`` shows; the broker calls it under its lock."""

    def __init__(
        self,
        switch: DeadManSwitch,
        seconds: int,
        *,
        paused: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.switch, self.seconds = switch, seconds
        self._paused, self._clock = paused, clock
        self.armed_at: float | None = None
        self.armed_for: frozenset[str] = frozenset()
        self.blocked = ""  # why it is not armed although it could be
        self.error = ""

    @property
    def status(self) -> str:
        if isinstance(self.switch, Unavailable):
            return self.switch.why
        if not self.seconds:
            return "DISABLED by configuration (exchange.dead_man_switch_s = 0): orders stay open if this bot dies"
        if self._paused():
            return f"PAUSED for maintenance ({PAUSE_FILE} exists): orders stay open if this bot dies"
        if self.blocked:
            return f"NOT ARMED: {self.blocked}"
        if self.error:
            return f"NOT ARMED: {self.error}"
        if self.armed_at is None:
            return f"available ({self.seconds} s), armed with the first live order"
        return f"armed, {self.seconds} s, refreshed {self._clock() - self.armed_at:.0f} s ago"

    @property
    def armed(self) -> bool:
        return self.armed_at is not None and self._clock() - self.armed_at < self.seconds

    def refresh(self, own_symbols: set[str], foreign_symbols: set[str]) -> None:
        """Arm or refresh for the symbols the bot has orders in, unless a foreign order
        shares the switch's scope; disarm if paused. Raises ccxt errors to the caller."""
        if not self.switch.available or not self.seconds or not own_symbols:
            return
        if self._paused():
            self.disarm()
            return
        clash = sorted(s for s in own_symbols if self.switch.scope(s) == "account" and foreign_symbols) or sorted(
            own_symbols & foreign_symbols
        )
        if clash:
            where = "the account" if self.switch.scope(clash[0]) == "account" else ", ".join(clash)
            self.blocked = (
                f"a trigger would also cancel orders on {where} that this bot did not place; "
                "trade from a dedicated account or subaccount to have one"
            )
            self.disarm()  # armed before the foreign order appeared: it must not fire on it
            return
        self.blocked = ""
        fresh = self.armed_at is not None and self._clock() - self.armed_at < self.seconds / 3
        if fresh and own_symbols <= self.armed_for:
            return
        self.switch.arm(self.seconds, own_symbols)
        self.armed_at, self.armed_for, self.error = self._clock(), frozenset(own_symbols), ""

    def disarm(self) -> None:
        """Stop a running timer (raises ccxt errors). Disarming can only prevent cancels:
        the bot does it when a foreign order enters the timer's scope, when paused, and
        once a kill receipt confirms none of its own orders is left for the timer."""
        if self.armed_at is None:
            return
        self.switch.disarm(self.armed_for)
        self.armed_at, self.armed_for = None, frozenset()
