"""Guard a ccxt bot NIJA does not run: ``exchange = nija.guard(ccxt.kraken({...}))``.

Every order-placing call is decided by NIJA's permission check at that moment
(LIVE_ACTIVE: the exchange, with the guard's client order ids; DRY_RUN: the paper
broker, answered in ccxt's structures; otherwise a ccxt exception carrying NIJA's code).
Public data passes through, cancels always pass, anything that could move funds is
refused outside a verified LIVE_ACTIVE. See docs/guard.md."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nija.guarded.errors import GuardCode, MethodRefused, OrderRefused

if TYPE_CHECKING:
    from nija.guarded.async_ import AsyncGuardedExchange
    from nija.guarded.sync import GuardedExchange
    from nija.store.ports import Store

__all__ = ["GuardCode", "MethodRefused", "OrderRefused", "guard"]


def guard(
    exchange: Any,
    *,
    data_dir: str | Path | None = None,
    store: Store | None = None,
) -> GuardedExchange | AsyncGuardedExchange:
    """Wrap ``exchange`` (a ccxt exchange, sync or ``ccxt.async_support``).

    ``data_dir``: NIJA's data directory (``--data-dir``, else NIJA_DATA_DIR, else the
    current directory): its nija.toml, paper ledger, audit trail and, without ``store``,
    its state files. ``store``: an opened store (for example a fleet's PostgreSQL scope)
    whose state and kill switch decide instead. Construction claims the data directory
    for this process (one bot per directory, as ``nija run``), applies the restart rule
    (a persisted live state becomes OFF) and starts the watcher."""
    import ccxt

    from nija.assembly import build_service
    from nija.config import load_config
    from nija.domain.errors import UsageProblem
    from nija.guarded.core import GuardCore
    from nija.guarded.run import GuardRun
    from nija.identity import local_who
    from nija.runtime.run_claim import hold_run_claim
    from nija.store import config_dir

    if isinstance(exchange, _guarded_types()):
        raise UsageProblem("This exchange is already guarded", "Pass the ccxt exchange itself to nija.guard()")
    if not isinstance(exchange, ccxt.Exchange) and not _is_async_exchange(exchange):
        raise UsageProblem(
            f"nija.guard() needs a ccxt exchange, not {type(exchange).__name__}",
            "Pass e.g. ccxt.kraken({...}) or ccxt.async_support.kraken({...})",
        )
    directory = config_dir(data_dir)
    if not directory.is_dir():
        raise UsageProblem(
            f"The data directory {directory} does not exist",
            "Create it (it holds nija.toml, the paper ledger and the audit trail) or pass data_dir=",
        )
    config = load_config(directory)
    service = build_service(directory, config=config, store=store, bot_run=True)
    # One bot per data directory (and per fleet scope), exactly as for ``nija run``: held
    # for the rest of the process; refused (BotAlreadyRunning, exit 3) if another holds it.
    took_over = hold_run_claim(
        directory, bot=getattr(store, "bot", None), heartbeat=service.store.load().heartbeat, now=service.clock()
    )
    # The OS account: who the system can vouch for (invariant 9).
    run = GuardRun(
        service,
        local_who("guard"),
        heartbeat_s=config.bot.heartbeat_s,
        data_dir=directory,
        account=config.exchange.account,
    )
    if _is_async_exchange(exchange):
        from nija.guarded.async_ import AsyncGuardedExchange

        core = GuardCore(run, config, directory, str(exchange.id), canceller=None)
        if took_over:
            core.alert("RUN_CLAIM_TAKEN_OVER", took_over)
        return AsyncGuardedExchange(exchange, core)
    from nija.guarded.sync import GuardedExchange, sync_canceller

    core = GuardCore(
        run, config, directory, str(exchange.id), canceller=sync_canceller(exchange), reader=exchange.fetch_open_orders
    )
    if took_over:
        core.alert("RUN_CLAIM_TAKEN_OVER", took_over)
    return GuardedExchange(exchange, core)


def _is_async_exchange(exchange: Any) -> bool:
    import ccxt.async_support

    return isinstance(exchange, ccxt.async_support.Exchange) or inspect.iscoroutinefunction(
        getattr(exchange, "create_order", None)
    )


def _guarded_types() -> tuple[type, ...]:
    from nija.guarded.async_ import AsyncGuardedExchange
    from nija.guarded.sync import GuardedExchange

    return (GuardedExchange, AsyncGuardedExchange)
