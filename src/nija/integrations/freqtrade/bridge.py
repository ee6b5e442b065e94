"""The freqtrade bridge: NIJA's kill switch and live rule, applied through freqtrade's
own REST API (freqtrade's stop is a flag its loop reads; it is not persisted and leaves
open orders alone unless configured to cancel them).

On a kill, in this order (freqtrade refuses cancels and exits once stopped):
1. stop entries (``/stopentry``: freqtrade pauses and keeps managing exits);
2. cancel the open orders of every open trade (as configured);
3. force-exit every open trade (only if configured: it sells at the market);
4. confirm through the same API that no order is open (the receipt), retrying;
5. then ``/stop`` the bot (as configured).
A freqtrade that trades live (``dry_run: false``) is stopped unless NIJA is in a verified
LIVE_ACTIVE. Every move out of live (a reset, a move to DRY_RUN or OFF, a confirmation
that no longer verifies, and the restart rule a starting bridge applies as every bot run
does: ``GuardRun.start`` turns a persisted live state into OFF, recorded) also cancels a
live freqtrade's open orders, between pausing its entries and stopping it, as ``nija run``
and the guard cancel theirs. Every action, and every failure to act or confirm, is
published to NIJA's listeners (audit trail, notifications). freqtrade unreachable:
retried, alerted, and the receipt names what is unknown instead of claiming it. The
bridge's account checks for a live request: nija/integrations/freqtrade/account.py."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nija.domain.events import Event, EventKind
from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.guarded.run import GuardRun
from nija.integrations.freqtrade.client import (
    FreqtradeClient,
    FreqtradeRefused,
    FreqtradeUnreachable,
    open_orders,
    plain,
)
from nija.service import SafetyService

KILL_CODES = frozenset({"KILL_SWITCH_ACTIVE", "CHECK_FAILED"})
_STOPPED_ENTRIES = frozenset({"paused", "stopped"})


@dataclass(frozen=True, slots=True)
class BridgeOptions:
    cancel_open_orders: bool = True
    force_exit: bool = False  # market-exit open trades on a kill
    stop_on_kill: bool = True  # /stop once nothing is open
    confirm_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class Receipt:
    """What freqtrade's own API says after a kill: never "none open" on a doubt."""

    reason: str
    actions: tuple[str, ...]
    freqtrade_state: str | None  # running / paused / stopped; None: unknown
    open_orders: tuple[str, ...] | None  # None: unknown
    open_trades: int | None
    unknown: tuple[str, ...]
    force_exit: bool

    @property
    def entries_stopped(self) -> bool | None:
        return None if self.freqtrade_state is None else self.freqtrade_state in _STOPPED_ENTRIES

    @property
    def complete(self) -> bool:
        flat = not self.force_exit or self.open_trades == 0
        return bool(self.entries_stopped) and self.open_orders == () and flat and not self.unknown

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "complete": self.complete,
            "entries_stopped": self.entries_stopped,
            "freqtrade_state": self.freqtrade_state,
            "open_orders": list(self.open_orders) if self.open_orders is not None else None,
            "open_trades": self.open_trades,
            "unknown": list(self.unknown),
            "actions": list(self.actions),
        }

    def summary(self) -> str:
        if self.complete:
            return f"freqtrade stopped ({self.freqtrade_state}): no open orders, {self.open_trades} open trade(s)"
        orders = "unknown" if self.open_orders is None else str(len(self.open_orders))
        return (
            "NIJA's kill switch is ACTIVE, but freqtrade is NOT confirmed stopped: "
            f"state {self.freqtrade_state or 'unknown'}, open orders {orders}"
            + (f"; unknown: {'; '.join(self.unknown)}" if self.unknown else "")
        )


@dataclass
class FreqtradeBridge:
    """The bridge is freqtrade's NIJA run: its ``GuardRun`` verifies live confirmations
    made for it and publishes them in the heartbeat (beaten only while freqtrade answers),
    which is what the strategy's entry guard reads before a live entry."""

    service: SafetyService
    client: FreqtradeClient
    run: GuardRun | None  # None: a one-off pass (--once), which is nobody's run and never beats
    options: BridgeOptions = field(default_factory=BridgeOptions)
    say: Callable[[str], None] = lambda _: None
    live_check_s: float = 1.0  # how often the live rule asks freqtrade (the watcher ticks at 4 Hz)
    seen_for_s: float = 5.0  # freqtrade counts as alive this long after it last answered
    receipt: Receipt | None = None
    kill_done: bool = False
    # Set on a move out of live (this run's, or the restart rule's at start), until the
    # next verified LIVE_ACTIVE: the orders of that live period are cancelled with the stop.
    left_live: bool = False
    _was_live: bool = False
    _last_alert: str = ""
    _next_live_check: float = 0.0
    _last_code: str = ""
    _answered_at: float | None = None

    who: Who = field(default_factory=lambda: Who("bridge", "bridge"))

    @property
    def seen(self) -> bool:
        """freqtrade answered at least once."""
        return self._answered_at is not None

    def tick(self) -> None:
        """The watcher's clock: beat (and count DRY_RUN time) only while freqtrade answers."""
        if self.run is not None and self.seen and time.monotonic() - (self._answered_at or 0.0) <= self.seen_for_s:
            self.run.tick()

    # -- following NIJA's state ------------------------------------------------------------
    def react(self, permission: Permission) -> None:
        """Called on every state change and tick (the watcher's thread), with the
        permission as this run's verifier judges it."""
        if self.run is not None:
            self.run.saw(permission)
        live = permission.allowed and permission.mode is Mode.LIVE
        if self._was_live != live:
            self._was_live, self.left_live = live, not live
        now = time.monotonic()
        if permission.code in KILL_CODES:
            if self.kill_done and now >= self._next_live_check:
                # A kill stays a kill: a freqtrade started again meanwhile (an operator's
                # /start, a supervisor's restart) gets the kill sequence again.
                self._next_live_check = now + self.live_check_s
                self.kill_done = self._entries_still_stopped()
            if not self.kill_done:
                self.receipt = self.kill(permission.reason)
                self.kill_done = self.receipt.complete
            return
        self.kill_done = False
        if permission.code != self._last_code or now >= self._next_live_check:
            self._last_code, self._next_live_check = permission.code, now + self.live_check_s
            self.enforce_live_rule(permission)

    def _entries_still_stopped(self) -> bool:
        """During a kill: are freqtrade's entries still stopped? No: the kill sequence runs
        again. Unanswered: asked again at the next check."""
        try:
            state = plain(self.client.show_config().get("state"), 20)
        except (FreqtradeUnreachable, FreqtradeRefused):
            return True  # asked again on the next check; the heartbeat says freqtrade is not seen
        self._beat()
        return state in _STOPPED_ENTRIES

    def enforce_live_rule(self, permission: Permission) -> None:
        try:
            config = self.client.show_config()
        except (FreqtradeUnreachable, FreqtradeRefused):
            return  # the next tick asks again; the heartbeat says the bot is not seen
        self._beat()
        if config.get("dry_run", True) is not False or str(config.get("state")) == "stopped":
            return
        if permission.allowed and permission.mode is Mode.LIVE:
            return
        why = (
            f"freqtrade trades live (dry_run = false) but NIJA is {permission.code}: "
            "stopped; freqtrade may trade live only in a verified LIVE_ACTIVE"
        )
        self.say(why)
        actions: list[str] = []
        self._step("stopentry", self.client.stop_entries, why, actions)
        try:
            if self.left_live:
                # The orders of the live period just left: nobody may trade on them outside it.
                _, trades, _ = self._observe()
                self._cancel_open_orders(trades or [], why, actions, set())
        finally:  # whatever freqtrade answered above, it is told to stop
            self._step("stop", self.client.stop, why, actions)

    # -- the kill sequence -------------------------------------------------------------------
    def kill(self, reason: str) -> Receipt:
        actions: list[str] = []
        unknown: list[str] = []
        why = f"NIJA kill: {reason}"
        self.say(f"{why}: stopping freqtrade's entries and cancelling its open orders")
        self._step("stopentry", self.client.stop_entries, why, actions, unknown)
        deadline = time.monotonic() + self.options.confirm_timeout_s
        forced = False
        cancelled: set[int] = set()
        state: str | None = None
        orders: tuple[str, ...] | None = None
        trades: list[dict[str, Any]] | None = None
        while True:
            state, trades, unreadable = self._observe()
            orders = tuple(open_orders(trades)) if trades is not None and not unreadable else None
            if trades is not None:
                self._cancel_open_orders(trades, why, actions, cancelled)
            if self.options.force_exit and not forced and trades:
                forced = self._step("forceexit all", self.client.force_exit_all, why, actions, unknown)
            flat = not self.options.force_exit or trades == []
            if (orders == () and flat and state in _STOPPED_ENTRIES) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        state, trades, unreadable = self._observe()
        orders = tuple(open_orders(trades)) if trades is not None and not unreadable else None
        if state is None or trades is None:
            unknown.append("freqtrade did not answer the final check: its state and open orders are unknown")
        if self.options.stop_on_kill and orders == () and state != "stopped":
            self._step("stop", self.client.stop, why, actions, unknown)
            state, trades, unreadable = self._observe()
            orders = tuple(open_orders(trades)) if trades is not None and not unreadable else None
        if unreadable:  # a row the bridge cannot read may hold an open order: never "none open"
            unknown.append(unreadable)
        receipt = Receipt(
            reason=reason,
            actions=tuple(actions),
            freqtrade_state=state,
            open_orders=orders,
            open_trades=len(trades) if trades is not None else None,
            unknown=tuple(unknown),
            force_exit=self.options.force_exit,
        )
        kind = EventKind.BRIDGE_ACTION if receipt.complete else EventKind.BRIDGE_ALERT
        self._publish(kind, receipt.summary(), {"action": "kill receipt", "complete": str(receipt.complete).lower()})
        self.say(receipt.summary())
        return receipt

    # -- plumbing ----------------------------------------------------------------------------
    def _cancel_open_orders(
        self, trades: list[dict[str, Any]], why: str, actions: list[str], cancelled: set[int]
    ) -> None:
        """``DELETE /trades/{id}/open-order`` for each trade with an open order, once per
        pass, unless ``--keep-open-orders``: the one cancel step of a kill and of a move out
        of live (the trades come validated from ``_observe``)."""
        if not self.options.cancel_open_orders:
            return
        for trade in trades:
            trade_id = int(trade["trade_id"])
            if trade_id not in cancelled and (trade.get("has_open_orders") or open_orders([trade])):
                cancelled.add(trade_id)
                self._step(
                    f"cancel open order of trade {trade_id}",
                    functools.partial(self.client.cancel_open_order, trade_id),
                    why,
                    actions,
                )

    def _observe(self) -> tuple[str | None, list[dict[str, Any]] | None, str]:
        """freqtrade's state and its open trades (None: unknown), and what of its ``/status``
        answer could not be read ("" when all of it could): alerted, never acted on."""
        try:
            state = plain(self.client.show_config().get("state"), 20)
            answer: object = self.client.open_trades()
        except (FreqtradeUnreachable, FreqtradeRefused):
            return None, None, ""
        self._beat()
        trades, unreadable = readable_trades(answer)
        if unreadable:
            self.alert("FREQTRADE_STATUS_UNREADABLE", unreadable)
        return state, trades, unreadable

    def _step(
        self,
        name: str,
        action: Callable[[], object],
        why: str,
        actions: list[str],
        unknown: list[str] | None = None,
    ) -> bool:
        try:
            result = action()
        except FreqtradeRefused as exc:
            line = f"{name}: freqtrade refused: {exc}"
            ok = False
        except FreqtradeUnreachable as exc:
            line = f"{name}: NOT DONE, freqtrade unreachable: {exc}"
            if unknown is not None:
                unknown.append(line)
            self._publish(EventKind.BRIDGE_ALERT, f"{why}: {line}", {"action": name})
            self.say(line)
            actions.append(line)
            return False
        else:
            line = f"{name}: {result}" if result else f"{name}: done"
            ok = True
        actions.append(line)
        self._publish(EventKind.BRIDGE_ACTION, f"{why}: {line}", {"action": name})
        self.say(line)
        return ok

    def alert(self, code: str, message: str) -> None:
        """The account checks' alert (every ``reconcile_s`` while it lasts): recorded once per change."""
        line = f"{code}: {message}"
        if line != self._last_alert:
            self._last_alert = line
            self._publish(EventKind.BRIDGE_ALERT, line, {"action": code.lower()})
            self.say(line)

    def _publish(self, kind: EventKind, reason: str, details: dict[str, str]) -> None:
        self.service.publish(
            Event(
                kind,
                self.who.actor,
                self.who.source,
                reason[:500],
                datetime.now(UTC),
                {"bot": "freqtrade", "url": self.client.url, **details},
            )
        )

    def _beat(self) -> None:
        """freqtrade answered: the bot NIJA guards is alive (for status, the web and the TUI)."""
        first = self._answered_at is None
        self._answered_at = time.monotonic()
        if first and self.run is not None:
            self.run.tick()


def readable_trades(answer: object) -> tuple[list[dict[str, Any]] | None, str]:
    """The rows of freqtrade's ``/status`` the bridge can act on (a dict with an integer
    ``trade_id``), and what it could not read: an answer that is not a list is unknown."""
    if not isinstance(answer, list):
        return None, f"freqtrade's /status answered {type(answer).__name__}, not a list of trades: {plain(answer, 200)}"
    rows = [row for row in answer if isinstance(row, dict) and _is_id(row.get("trade_id"))]
    skipped = len(answer) - len(rows)
    if not skipped:
        return rows, ""
    return rows, f"{skipped} row(s) of freqtrade's /status without an integer trade_id were skipped"


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
