"""What a guarded exchange decides, with no exchange I/O of its own: the sync and the
async wrappers share it and differ only in how they call the exchange.

It reuses the runtime's parts unchanged: the order gate (permission check, vetoes,
denial counting), the paper broker and its ledger, and the kill reaction. Orders are
decided under ``gate.lock``; the sync wrapper holds that lock while it sends, so a kill
either sees the order (and cancels it) or the order sees the kill (and is refused)."""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt

from nija.bot_report import Notice, write_report
from nija.config import NijaConfig
from nija.domain.events import Event, EventKind
from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.guarded.call import Approved, OrderCall
from nija.guarded.errors import GuardCode, MethodRefused, OrderRefused
from nija.guarded.live_book import Canceller, LiveBook
from nija.guarded.paper_answers import PaperAnswers
from nija.guarded.report import guard_report
from nija.guarded.run import GuardRun
from nija.runtime.brokers.base import Broker
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.candles import Candle
from nija.runtime.controls import ControlChain, GateControls, ReferenceBook
from nija.runtime.gate import OrderGate
from nija.runtime.instance import InstanceCode, copied_notice, instance_of
from nija.runtime.orders import Order, OrderRequest, OrderType, PlaceResult, Side
from nija.runtime.reaction import Reaction
from nija.runtime.risk import OrderLimits


def client_prefix(instance_id: str) -> str:
    return "nj" + hashlib.sha256(instance_id.encode()).hexdigest()[:6]


class GuardCore(PaperAnswers):
    def __init__(
        self,
        run: GuardRun,
        config: NijaConfig,
        data_dir: Path,
        exchange_id: str,
        *,
        canceller: Canceller | None,
        reader: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.run = run
        self.config = config
        self.data_dir = data_dir
        self.quote = config.paper.quote_currency
        self._seq = itertools.count(1)
        # The directory's instance, not its host and path: a copy, or another volume mounted
        # at the same path, is another bot and must never adopt (and cancel) this one's orders.
        self.instance = instance_of(data_dir)
        self._client_prefix = client_prefix(self.instance.id)
        self._own_prefixes = tuple(client_prefix(i) for i in self.instance.ids)
        self.paper = PaperBroker(data_dir, config.paper, run_id=run.run_id)
        self.live = LiveBook(exchange_id, self._next_client_id, canceller=canceller, reader=reader)
        self.paper_client_ids: dict[str, str] = {}
        brokers: dict[Mode, Broker] = {Mode.SIMULATED: self.paper, Mode.LIVE: self.live}
        # The pre-trade controls of nija run (collar against a fresh reference, notional,
        # throttles, daily caps, duplicates, runaway breaker), fed with the exchange's prices.
        self.references = ReferenceBook()
        self.controls = ControlChain(config.risk, time.time)
        self.gate = OrderGate(
            run,
            brokers,
            vetoes=[OrderLimits(config.risk)],
            controls=GateControls(self.controls, self.references),
            on_denied=self._publish_denial,
        )
        self.alerts: list[Notice] = []
        self.reaction = Reaction(
            self.gate, alert=self.alert, retries=config.bot.cancel_retries, on_kill_complete=self.write_report
        )
        self.last_mode: Mode | None = None
        self.closed = False
        self._react_lock = threading.RLock()
        run.on_direct_kill = self._direct_kill
        run.alert = self.alert
        self._last_denial: dict[str, float] = {}
        self._next_report = 0.0

    def start(self) -> None:
        if self.instance.copied_now:
            self.alert(InstanceCode.DIRECTORY_COPIED, copied_notice(self.instance, self.data_dir))
        outcome = self.run.start()
        if outcome.changed:
            self.alert("RESTART_RULE", f"{outcome.before} -> {outcome.after}: a restart never resumes live trading")
        self.paper.begin_run()
        self.run.beat()

    # -- orders ----------------------------------------------------------------------
    def _next_client_id(self) -> str:
        # 18 alphanumeric characters (Kraken's limit for free text; others allow more): the
        # bot's tag (its data directory's instance), then the run, then a sequence.
        run = hashlib.sha256(self.run.run_id.encode()).hexdigest()[:4]
        return f"{self.client_prefix}{run}{next(self._seq):06d}"

    @property
    def client_prefix(self) -> str:
        """What every client order id of this bot starts with, across its runs: a crashed
        run's orders are recognised (and cancelled) by the next one in the same directory,
        never by a copy of it (nija.runtime.instance)."""
        return self._client_prefix

    def adopt(self, rows: list[dict[str, Any]]) -> list[str]:
        """Open orders at the exchange that a previous run of this bot placed (this directory's
        instance, or one the operator adopted): tracked as its own, so the reaction cancels
        them (a restart starts OFF). Others are left alone."""
        adopted = []
        for row in rows:
            client_id = str(row.get("clientOrderId") or "")
            if not client_id.startswith(self._own_prefixes) or not row.get("id"):
                continue
            try:
                amount = float(row.get("amount") or 0.0)
                price = float(row["price"]) if row.get("price") else None
                side = Side(str(row.get("side")))
            except (TypeError, ValueError):
                continue
            kind = OrderType.LIMIT if price else OrderType.MARKET
            fallback = Order(str(row["id"]), str(row.get("symbol") or ""), side, kind, amount, price)
            self.live.track(row, client_id, fallback)
            adopted.append(str(row["id"]))
        if adopted:
            self.alert(
                "ADOPTED_OWN_ORDERS", f"{len(adopted)} open order(s) of a previous run: {', '.join(adopted[:5])}"
            )
        return adopted

    def permission(self) -> Permission:
        if self.closed:
            return Permission(False, None, GuardCode.GUARD_CLOSED, "the guard was closed")
        return self.run.check()

    def decide(self, call: OrderCall) -> PlaceResult:
        """Under ``gate.lock``: the gate's answer, or a refusal raised as a ccxt exception.
        DRY_RUN: the paper order is placed. LIVE_ACTIVE: approved, carrying the client id."""
        request = call.request()
        problem = call.paper_problem()  # asked first: most orders have none, and then one check suffices
        if problem:
            permission = self.permission()
            if permission.allowed and permission.mode is Mode.SIMULATED:
                raise OrderRefused(GuardCode.PAPER_UNSUPPORTED, problem)
        if self.closed:
            raise OrderRefused(GuardCode.GUARD_CLOSED, "the guard was closed: it places no more orders")
        result = self.gate.place(request)
        if not result.accepted:
            raise OrderRefused(result.code, result.reason)
        assert result.order is not None
        self.last_mode = Mode.LIVE if result.code == "APPROVED" else Mode.SIMULATED
        if self.last_mode is Mode.SIMULATED:
            self.paper_client_ids[result.order.id] = str(call.params.get("clientOrderId") or self._next_client_id())
            if request.type is OrderType.MARKET:
                self._fill_at_mark(request.symbol)
        return result

    def approve(self, call: OrderCall) -> Approved | dict[str, Any]:
        """Under ``gate.lock``: DRY_RUN's answer (the paper order), or what to send live
        (the bot's params with the guard's client id; a bot's own client id is kept)."""
        result = self.decide(call)
        assert result.order is not None
        if result.code != "APPROVED":
            return self.paper_order(result.order.id)
        own = call.params.get("clientOrderId")
        client_id = str(own) if own else result.order.id
        return Approved({**call.params, "clientOrderId": client_id}, client_id, result.order)

    def sent(self, row: dict[str, Any], approved: Approved, *, replaced: str | None = None) -> dict[str, Any]:
        """Track what the exchange answered for an approved order (an edit may renumber it)."""
        if replaced is not None and str(row.get("id")) != replaced:
            self.live.forget(replaced)
        self.live.track(row, approved.client_id, approved.order)
        return row

    def require_own(self, order_id: str, symbol: str | None = None) -> None:
        """Edits: only an open order the bot placed through this guard (invariant 8)."""
        if not self.live.owns(order_id, symbol):
            raise OrderRefused(
                GuardCode.NOT_OWN_ORDER,
                f"order {order_id} was not placed through this guard (or is no longer open): NIJA never edits "
                "orders the bot did not create through it; cancel it and place a new order",
            )

    def require_cancellable(self, order_ids: list[str], symbol: str | None) -> None:
        """Cancels, in every state: paper orders and the bot's own live ones, never another's
        (invariant 8: a person's stop-loss on the same account is not the bot's to cancel).
        A batch is refused whole, before any of it is sent."""
        for order_id in order_ids:
            if not (self.is_paper_id(order_id) or self.live.created(order_id, symbol)):
                where = f" on {symbol}" if symbol else ""
                raise OrderRefused(
                    GuardCode.NOT_OWN_ORDER,
                    f"order {order_id}{where} was not placed through this guard: NIJA never cancels orders the bot "
                    f"did not create through it, and nothing was sent (trading now: {self.permission().reason}). "
                    "Cancel it at the exchange yourself if it must go",
                )

    def own_id_for_client(self, client_id: str, symbol: str | None) -> str:
        """cancel_order_with_client_order_id: the bot's own order with that client id (paper or
        live), cancelled by its id like any other; another's client id is refused."""
        paper = next((oid for oid, cid in self.paper_client_ids.items() if cid == client_id), None)
        found = paper or self.live.id_for_client(client_id, symbol)
        if found is None:
            raise OrderRefused(
                GuardCode.NOT_OWN_ORDER,
                f"no order with client id {client_id!r} was placed through this guard: NIJA never cancels orders "
                f"the bot did not create through it, and nothing was sent (trading now: {self.permission().reason})",
            )
        return found

    def cancellations(self, orders: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        """cancel_orders_for_symbols: each request ({id or clientOrderId, symbol}) as the bot's
        own (id, symbol), all checked before any is sent."""
        named = []
        for request in orders:
            symbol = request.get("symbol")
            order_id = request.get("id")
            if not order_id and request.get("clientOrderId"):
                order_id = self.own_id_for_client(str(request["clientOrderId"]), symbol)
            if not order_id:
                raise OrderRefused(GuardCode.BAD_ORDER, "each cancellation needs an 'id' or a 'clientOrderId'")
            named.append((str(order_id), str(symbol) if symbol else None))
        for order_id, symbol in named:
            self.require_cancellable([order_id], symbol)
        return named

    def timer_write(self, timeout: Any, params: Mapping[str, Any] | None) -> bool:
        """cancel_all_orders_after: arming is refused in every state (the timer is account-wide:
        it would fire on orders the bot did not place, even after a kill); disarming (0) is
        allowed in every state, since it can only prevent cancels. Whether to send it: not
        while simulating (a simulation writes nothing; the guard never armed a timer)."""
        if timeout:
            raise MethodRefused(
                GuardCode.ACCOUNT_WIDE_TIMER,
                "cancel_all_orders_after() with a timeout arms the exchange's account-wide cancel-all timer: when "
                "it fires it cancels every order on the account, including orders this bot did not place, and "
                "also after a kill; the guard never arms it. cancel_all_orders_after(0) disarms it in every state. "
                "For a dead man's switch run the bot with nija run, which arms one only while no other order "
                "shares its scope",
            )
        if params:
            raise MethodRefused(
                GuardCode.ACCOUNT_WIDE_TIMER,
                f"cancel_all_orders_after(0) with params {sorted(params)}: ccxt sends params over the request, so "
                "they could arm the timer again; nothing was sent. Disarm with cancel_all_orders_after(0) alone",
            )
        permission = self.permission()
        return not (permission.allowed and permission.mode is Mode.SIMULATED)

    def trading_live(self) -> bool:
        permission = self.permission()
        return permission.allowed and permission.mode is Mode.LIVE

    def shown_orders(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The exchange's orders as the bot is shown them: all of them in a verified
        LIVE_ACTIVE, else only its own (a kill's cleanup loop must find nothing else)."""
        if self.trading_live():
            return rows
        return [row for row in rows if self.live.placed(row)]

    def require_shown(self, order_id: str, symbol: str | None) -> None:
        """fetch_order outside a verified LIVE_ACTIVE: the bot's own orders only."""
        if not (self.trading_live() or self.live.created(order_id, symbol)):
            raise ccxt.OrderNotFound(
                f"NIJA: order {order_id} was not placed through this guard; outside a verified LIVE_ACTIVE "
                f"the bot is shown only its own orders (trading now: {self.permission().reason})"
            )

    def observe_tickers(self, result: Any) -> None:
        """A fetch_ticker (one ticker) or fetch_tickers (symbol -> ticker) answer."""
        tickers = result.values() if isinstance(result, dict) and "symbol" not in result else [result]
        for ticker in tickers:
            if isinstance(ticker, dict):
                self.observe_ticker(ticker)

    def own_open(self, symbol: str | None) -> tuple[list[str], list[Order]]:
        """The bot's open orders through this guard (paper ids, live orders), for cancel_all_orders."""
        paper = [o.id for o in self.paper.open_orders() if symbol is None or o.symbol == symbol]
        live = [o for o in self.live.own_open() if symbol is None or o.symbol == symbol]
        return paper, live

    def refuse_method(self, name: str, kind: str) -> MethodRefused:
        if kind == "cancel_unknown":
            return MethodRefused(
                GuardCode.CANCEL_UNCHECKED,
                f"{name}() cancels orders the guard cannot check are the bot's own; it is refused in every "
                "state. Use cancel_order(), cancel_orders() or cancel_all_orders() (the bot's own orders), "
                "or cancel_order_with_client_order_id() with a client id the guard sent.",
            )
        if kind == "order_unknown":
            return MethodRefused(
                GuardCode.NOT_ON_ALLOW_LIST,
                f"{name}() places or edits orders in a way the guard does not decide; it is refused in every "
                "state. Use create_order() (or a helper such as create_limit_buy_order()).",
            )
        return MethodRefused(
            GuardCode.LIVE_ONLY,
            f"{name}() can move funds or reach the exchange past the guard; it is refused outside a verified "
            f"LIVE_ACTIVE (now: {self.permission().reason})",
        )

    # -- paper answers ---------------------------------------------------------------
    def answers_from_paper(self) -> bool:
        """DRY_RUN answers from the ledger; so does a stopped guard that last traded on paper."""
        permission = self.permission()
        if permission.allowed:
            return permission.mode is Mode.SIMULATED
        return self.last_mode is not Mode.LIVE

    # -- prices ----------------------------------------------------------------------
    def observe_ticker(self, ticker: Mapping[str, Any] | None) -> None:
        """Public prices the bot fetched move the paper book (fills) and feed the risk limits."""
        if not ticker:
            return
        price = ticker.get("last") or ticker.get("close")
        symbol = ticker.get("symbol")
        if isinstance(symbol, str) and isinstance(price, int | float) and price > 0:
            self.observe_price(symbol, float(price))

    def observe_price(self, symbol: str, price: float) -> None:
        now = time.time()
        self.live.marks[symbol] = price
        self.references.observe(symbol, price, now, "ticker")
        self._fills(self.paper.on_candle(Candle(now, symbol, price, price, price, price, 0.0)))

    def needs_price(self, call: OrderCall) -> bool:
        """A fresh reference is needed for every order (the collar and notional controls deny
        without one); one older than half the allowed age is refreshed from the ticker."""
        reference = self.references.get(call.symbol)
        return reference is None or time.time() - reference.at > self.config.risk.reference_max_age_s / 2

    def _fill_at_mark(self, symbol: str) -> None:
        mark = self.paper.mark(symbol)
        if mark is not None:
            self._fills(self.paper.on_candle(Candle(time.time(), symbol, mark, mark, mark, mark, 0.0)))

    def _fills(self, fills: list[Any]) -> None:
        for _ in fills:
            self.controls.filled()  # the order-to-fill ratio control counts paper fills

    def after_order(self) -> None:
        """Outside the gate's lock, after every order attempt: a tripped runaway breaker
        becomes a latched kill, recorded, and the reaction cancels at once."""
        trip = self.controls.take_trip()
        if trip is None:
            return
        self.alert(trip.source, trip.reason)
        self.run.service.activate_kill(trip.reason, Who(self.run.who.actor, trip.source, self.run.who.principal))

    # -- watcher callbacks -----------------------------------------------------------
    def on_permission(self, permission: Permission) -> None:
        with self._react_lock:  # the watcher and a direct kill's listener both react
            was_killed = self.reaction.kill.active
            self.reaction(permission)
            self.run.saw(permission)
            if permission.allowed:
                self.last_mode = permission.mode
            if self.reaction.kill.active and not was_killed:
                self.alert(
                    "KILL", f"kill noticed ({permission.reason}): the guarded bot's open orders are being cancelled"
                )

    def _direct_kill(self) -> bool:
        """A kill sent straight to this process (the disk could not take it): the latched
        view denies from now on; cancel the bot's own orders at once."""
        self.on_permission(self.run.check())
        return self.reaction.kill.complete

    def tick(self) -> None:
        self.run.tick()
        if time.monotonic() >= self._next_report:
            self.write_report()

    def alert(self, code: str, message: str) -> None:
        if self.alerts and (self.alerts[-1].code, self.alerts[-1].message) == (code, message):
            return
        self.alerts.append(Notice(timestamp=datetime.now(UTC).isoformat(), code=code, message=message))
        del self.alerts[:-50]

    def _publish_denial(self, request: OrderRequest, result: PlaceResult) -> None:
        now = time.monotonic()
        if now - self._last_denial.get(result.code, -10.0) < 1.0:
            return  # one event per reason per second: a refusal storm must not flood the audit trail
        self._last_denial[result.code] = now
        who = self.run.who
        self.run.service.publish(
            Event(
                EventKind.ORDER_DENIED,
                who.actor,
                who.source,
                result.reason,
                datetime.now(UTC),
                {"code": result.code, "symbol": request.symbol, "count": str(self.gate.denials[result.code])},
            )
        )

    def write_report(self) -> None:
        self._next_report = time.monotonic() + self.config.bot.report_s
        write_report(self.data_dir, guard_report(self))

    def finish(self) -> None:
        """Stop deciding: the last permission check cancels what it must, then a stopped heartbeat."""
        self.on_permission(self.run.check())
        self.closed = True
        self.paper.end_run()
        self.write_report()
        self.run.beat(stopped=True)
        self.run.close()
        self.paper.close()
