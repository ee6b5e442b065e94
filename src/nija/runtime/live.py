"""Building the live broker from the configuration and the credentials."""

from __future__ import annotations

from pathlib import Path

import ccxt

from nija.config import NijaConfig
from nija.credentials import load_credentials
from nija.domain.errors import UsageProblem
from nija.runtime.brokers.deadman import PAUSE_FILE
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.brokers.owned import OwnedBook, account_key


def build_live_broker(config: NijaConfig, data_dir: Path) -> ExchangeBroker | None:
    """None without credentials: LIVE_ACTIVE orders are then denied (NO_BROKER)."""
    credentials = load_credentials(data_dir)
    if credentials is None:
        return None
    settings = config.exchange
    factory = getattr(ccxt, settings.id, None)
    if factory is None or settings.id not in ccxt.exchanges:
        raise UsageProblem(
            f"exchange.id: {settings.id!r} is not an exchange ccxt knows",
            "Use a ccxt exchange id such as 'kraken', 'binance' or 'okx'",
        )
    options = {
        "apiKey": credentials.api_key,
        "secret": credentials.secret,
        "enableRateLimit": True,
        "timeout": settings.timeout_ms,
    }
    if credentials.password:
        options["password"] = credentials.password
    client = factory(options)
    client.options["warnOnFetchOpenOrdersWithoutSymbol"] = False  # the bot reads every symbol on purpose
    if settings.sandbox:
        try:
            if not client.urls.get("test"):
                raise ccxt.NotSupported(settings.id)
            client.set_sandbox_mode(True)
        except ccxt.NotSupported as exc:
            raise UsageProblem(
                f"exchange.sandbox = true, but ccxt has no sandbox (testnet) for {settings.id!r}",
                "Use a venue with a testnet (binance, binanceusdm, okx, bybit, krakenfutures) or set sandbox = false",
            ) from exc
    owned = OwnedBook(data_dir, account_key(settings.id, credentials.api_key, sandbox=settings.sandbox))
    return ExchangeBroker(
        client,
        owned,
        quote=config.paper.quote_currency,
        dead_man_switch_s=settings.dead_man_switch_s,
        pause_file=data_dir / PAUSE_FILE,
    )
