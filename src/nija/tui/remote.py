"""The remote backend: a control plane reached through its HTTP API (Bearer token).

Runtime data (orders, positions) is not part of the API contract yet, so the remote
frame says so instead of showing nothing. Plans are computed with the same domain
rules from the reported state; the server applies its own rules again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from nija.domain import recovery
from nija.domain.errors import NijaError, SafetyRefusal, StorageUnavailable, UsageProblem
from nija.domain.records import KillRecord, Snapshot, TradingRecord
from nija.domain.states import TradingState
from nija.tui.backend import ActionResult, PlanView
from nija.tui.frame import Frame, History, StatusView

NO_RUNTIME = "Runtime data (orders, positions, P&L) is not available through the API"
RECONNECT_S = 2.0


class RemoteBackend:
    def __init__(self, url: str, token: str, *, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
        )

    @property
    def location(self) -> str:
        return self.url

    async def frame(self) -> Frame:
        return Frame(StatusView.model_validate(await self._call("GET", "/api/status")), None, NO_RUNTIME)

    async def history(self) -> History:
        return History.model_validate(await self._call("GET", "/api/history"))

    async def activate_kill(self, reason: str) -> ActionResult:
        return _result(await self._call("POST", "/api/kill-switch/activate", {"reason": reason}), "Kill switch")

    async def deactivate_kill(self, reason: str) -> ActionResult:
        return _result(await self._call("POST", "/api/kill-switch/deactivate", {"reason": reason}), "Kill switch")

    async def plan(self, action: str) -> PlanView:
        status = StatusView.model_validate(await self._call("GET", "/api/status"))
        snapshot = Snapshot(
            trading=TradingRecord(current_state=TradingState(status.state)),
            kill=KillRecord(is_active=status.kill_switch.active),
        )
        planner = recovery.plan_restore if action == "restore" else recovery.plan_reset
        shown = planner(snapshot)
        steps = tuple(f"{s.from_state} → {s.to_state}: {s.reason}" for s in shown.steps)
        return PlanView(action, shown.path, steps, shown.warnings)

    async def apply(self, plan: PlanView) -> ActionResult:
        return _result(await self._call("POST", f"/api/{plan.action}"), plan.action.capitalize())

    async def changes(self) -> AsyncIterator[None]:
        while True:
            try:
                async with self._client.stream("GET", "/api/events", timeout=None) as response:
                    response.raise_for_status()
                    yield None  # (re)connected: something may have changed meanwhile
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            yield None
            except httpx.HTTPError:
                pass
            await asyncio.sleep(RECONNECT_S)

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = await self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise StorageUnavailable(
                f"Cannot reach the control plane at {self.url}: {exc}",
                "Check the --api URL, that the API is running, and the network",
            ) from exc
        if response.status_code in (401, 403):
            raise UsageProblem(f"The API at {self.url} refused the token", "Check --token (or NIJA_API_TOKEN)")
        data = _json(response)
        if response.is_error:
            raise _error(response.status_code, data)
        return data


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(status: int, data: dict[str, Any]) -> NijaError:
    error = data.get("error") or data.get("detail") or {}
    if isinstance(error, dict):
        message = str(error.get("message") or f"HTTP {status}")
        fix = str(error.get("fix") or "")
        code = str(error.get("code") or "")
    else:
        message, fix, code = str(error), "", ""
    kind = SafetyRefusal if status in (409, 422, 423) else NijaError
    return kind(message, fix, code=code or None)


def _result(data: dict[str, Any], what: str) -> ActionResult:
    messages = tuple(str(m) for m in (*data.get("warnings", ()), *data.get("messages", ())))
    after = data.get("after", "?")
    if data.get("changed"):
        return ActionResult(f"{what}: done, now {after}", messages)
    return ActionResult(messages[0] if messages else f"{what}: nothing changed, still {after}", messages[1:])
