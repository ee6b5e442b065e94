"""freqtrade's REST API (``api_server``), the calls the bridge makes, with retries.

Connection failures, timeouts and 5xx answers other than freqtrade's own refusals are
retried with backoff; a refusal (freqtrade answers an RPC error as HTTP 502 with
``{"error": ...}``) and a bad login are not: retrying would not change them."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from typing import Any

import httpx


def plain(text: object, limit: int = 300) -> str:
    """freqtrade's words, safe to print and record: control and format characters (ANSI
    escapes, bidi overrides, newlines) become '?' (DESIGN.md invariant 12)."""
    return "".join("?" if unicodedata.category(ch).startswith("C") else ch for ch in str(text)[:limit])


class FreqtradeUnreachable(Exception):
    """freqtrade did not answer (after the retries): what it did is unknown."""


class FreqtradeRefused(Exception):
    """freqtrade answered and said no (for example "trader is not running")."""


@dataclass
class FreqtradeClient:
    url: str
    username: str
    password: str
    timeout_s: float = 5.0
    retries: int = 3

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.url.rstrip("/") + "/api/v1", auth=(self.username, self.password), timeout=self.timeout_s
        )

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        last = ""
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path, json=body)
            except httpx.HTTPError as exc:
                last = plain(f"{type(exc).__name__}: {exc}")
            else:
                if response.status_code == 401:
                    raise FreqtradeRefused(
                        f"freqtrade refused the login for {path} (HTTP 401): check FREQTRADE_USERNAME and "
                        "FREQTRADE_PASSWORD against api_server in freqtrade's config"
                    )
                if response.status_code < 400:
                    return response.json()
                error = _error_of(response)
                if response.status_code in (400, 404, 422, 502) and error:
                    raise FreqtradeRefused(f"{method} {path}: {plain(error)}")
                last = f"HTTP {response.status_code}: {plain(error or response.text[:200])}"
            if attempt < self.retries:
                time.sleep(min(0.1 * 2**attempt, 2.0))
        raise FreqtradeUnreachable(f"{method} {path} failed after {self.retries + 1} attempts: {last}")

    # -- the calls the bridge makes ------------------------------------------------------
    def ping(self) -> bool:
        return bool(self.call("GET", "/ping").get("status") == "pong")

    def show_config(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", "/show_config")
        return answer

    def open_trades(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.call("GET", "/status")
        return answer

    def balance(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", "/balance")
        return answer

    def stop_entries(self) -> str:
        return plain(self.call("POST", "/stopentry").get("status", ""))

    def stop(self) -> str:
        return plain(self.call("POST", "/stop").get("status", ""))

    def force_exit_all(self) -> str:
        return plain(self.call("POST", "/forceexit", {"tradeid": "all"}).get("result", ""))

    def cancel_open_order(self, trade_id: int) -> None:
        self.call("DELETE", f"/trades/{trade_id}/open-order")


def _error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("error") or body.get("detail") or "")
    return ""


def open_orders(trades: list[dict[str, Any]]) -> list[str]:
    """The ids of open orders across freqtrade's open trades (an order without the flag
    counts as open: the receipt must never say "none open" on a doubt)."""
    found = []
    for trade in trades:
        orders = trade.get("orders") or []
        for order in orders if isinstance(orders, list) else [orders]:
            if not isinstance(order, dict):
                found.append(f"unreadable order {plain(order, 40)}")  # unknown counts as open
            elif order.get("is_open", True):
                found.append(str(order.get("order_id")))
    return found
