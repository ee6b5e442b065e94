"""A plain ccxt bot, not written for NIJA, guarded by one line: ``nija.guard(...)``.

NIJA's state decides each order: DRY_RUN paper-trades it, LIVE_ACTIVE (confirmed by an
operator) sends it, anything else refuses it with a ccxt error the bot already handles.
A kill (``emergency_kill_switch.py activate``) cancels this bot's own open orders.
Run: NIJA_DATA_DIR=./data KRAKEN_KEY=... KRAKEN_SECRET=... python examples/ccxt_bot.py"""

import os
import time

import ccxt

import nija


def main(exchange: ccxt.Exchange, symbol: str = "BTC/USDT", pause_s: float = 1.0) -> None:
    exchange = nija.guard(exchange)  # the data directory: NIJA_DATA_DIR, else the current one
    try:
        while True:
            price = exchange.fetch_ticker(symbol)["last"]
            if not exchange.fetch_open_orders(symbol):
                try:  # a resting buy 1 % under the market
                    order = exchange.create_limit_buy_order(symbol, 0.001, round(price * 0.99, 1))
                    print("placed", order["id"], order["status"], flush=True)
                except ccxt.ExchangeError as exc:  # NIJA's refusals are ccxt errors too
                    print("not placed:", exc, flush=True)
            time.sleep(pause_s)
    finally:
        exchange.close()


if __name__ == "__main__":
    main(ccxt.kraken({"apiKey": os.environ.get("KRAKEN_KEY"), "secret": os.environ.get("KRAKEN_SECRET")}))
