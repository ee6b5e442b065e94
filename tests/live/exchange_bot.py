"""``python tests/live/exchange_bot.py run ...`` is ``nija run ...`` with ccxt's HTTP layer
replaced, for every ccxt Kraken client the process builds, by recorded Kraken replies
(tests/runtime/recorded/kraken). Every request the fake exchange layer receives is
appended to ``$NIJA_TEST_EXCHANGE_LOG`` as one JSON line (endpoint, method, time), so a
test counts exchange requests by endpoint from outside the process."""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import ccxt
import requests
from requests.adapters import BaseAdapter

RECORDED = Path(__file__).resolve().parent.parent / "runtime" / "recorded" / "kraken"
ROUTES = {
    "Assets": "Assets.json",
    "AssetPairs": "AssetPairs.json",
    "OpenOrders": "OpenOrders_empty.json",
    "CancelAllOrdersAfter": "CancelAllOrdersAfter.json",
    "BalanceEx": "BalanceEx.json",
    "AddOrder": "AddOrder.json",
    "CancelOrder": "CancelOrder.json",
    "CancelAll": "CancelAll.json",
    "QueryOrders": "QueryOrders.json",
    "OHLC": "OHLC.json",
}
EMPTY = b'{"error": [], "result": {}}'


class RecordingKraken(BaseAdapter):
    def __init__(self, log: Path) -> None:
        super().__init__()
        self.log = log

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        endpoint = urlparse(request.url or "").path.rsplit("/", 1)[-1]  # run by path: imports nothing from tests
        with self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"endpoint": endpoint, "method": request.method, "at": time.time()}) + "\n")
        name = ROUTES.get(endpoint)
        response = requests.Response()
        response.status_code = 200
        response._content = (RECORDED / name).read_bytes() if name else EMPTY
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        response.reason = "OK"
        return response

    def close(self) -> None:
        pass


def install(log: Path) -> None:
    original = ccxt.kraken.__init__

    def patched(self: Any, config: Any = None) -> None:
        original(self, config or {})
        self.enableRateLimit = False  # ccxt spaces calls for Kraken's limits (3 s per private call); the fake has none
        self.session.mount("https://", RecordingKraken(log))
        self.session.mount("http://", RecordingKraken(log))

    ccxt.kraken.__init__ = patched


if __name__ == "__main__":
    install(Path(os.environ["NIJA_TEST_EXCHANGE_LOG"]))
    sys.argv = ["nija", *sys.argv[1:]]
    runpy.run_module("nija", run_name="__main__")
