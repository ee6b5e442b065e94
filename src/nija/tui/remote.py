"""The remote backend: a control plane reached through its HTTP API (Bearer token),
as documented in docs/api.md: status, runtime, history, plans, actions and the
server-sent event stream. Errors arrive as ``{"error": {code, message, fix}}`` and are
turned back into the same exception classes the local backend raises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import ValidationError

from nija.bot_report import BotReport, stale_note
from nija.domain.actions import FixAction
from nija.domain.errors import (
    KillSwitchActive,
    NijaError,
    SafetyRefusal,
    StorageProblem,
    StorageUnavailable,
    UsageProblem,
)
from nija.tui.backend import ActionResult, PlanView
from nija.tui.frame import Frame, parse
from nija.views import ApiStatusView, HistoryView, OutcomeView, RecoveryPlanView

NO_BOT = "No bot is running there: the control plane has no runtime report"
RECONNECT_S = 2.0


class RemoteBackend:
    def __init__(
        self, url: str, token: str, *, timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        # ``transport``: another way to reach the same API (tests: the app in process).
        self._client = httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s, transport=transport
        )

    @property
    def location(self) -> str:
        return self.url

    async def frame(self) -> Frame:
        status = parse(ApiStatusView, await self._call("GET", "/api/status"))
        runtime = await self._call("GET", "/api/runtime")
        try:
            report = BotReport.model_validate(runtime["report"]) if runtime.get("report") else None
        except (KeyError, ValidationError):
            report = None
        note = stale_note(runtime.get("age_s"), bool(runtime.get("stale")), runtime.get("stopped_at"))
        return Frame(status, report, "" if report else NO_BOT, stale_note=note)

    async def history(self) -> HistoryView:
        return parse(HistoryView, await self._call("GET", "/api/history"))

    async def activate_kill(self, reason: str) -> ActionResult:
        return _result(await self._call("POST", "/api/kill-switch/activate", {"reason": reason}), "Kill switch")

    async def kill_seen(self) -> str | None:
        return parse(ApiStatusView, await self._call("GET", "/api/status")).kill_switch.seen

    async def deactivate_kill(self, reason: str, seen: str | None = None) -> ActionResult:
        body = {"reason": reason, "expected": seen}
        return _result(await self._call("POST", "/api/kill-switch/deactivate", body), "Kill switch")

    async def plan(self, action: str) -> PlanView:
        return PlanView.of(parse(RecoveryPlanView, await self._call("GET", f"/api/{action}/plan")))

    async def apply(self, plan: PlanView) -> ActionResult:
        # The server refuses (409 STATE_CHANGED) if the plan is no longer the one shown.
        body = {"expected_path": plan.path} if plan.path else {}
        return _result(await self._call("POST", f"/api/{plan.action}", body), plan.action.capitalize())

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
        data = _json(response)
        if response.status_code == 401:
            raise UsageProblem(f"The API at {self.url} refused the token", "Check --token (or NIJA_API_TOKEN)")
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
        action = _action(error.get("action"))
    else:
        message, fix, code, action = str(error), "", "", None
    kinds: dict[int, type[NijaError]] = {403: SafetyRefusal, 409: SafetyRefusal, 422: UsageProblem}
    kind = kinds.get(status, StorageProblem if status == 503 else NijaError)
    if code == KillSwitchActive.code:
        kind = KillSwitchActive
    return kind(message, fix, code=code or None, action=action)


def _action(value: object) -> FixAction | None:
    try:
        return FixAction(str(value)) if value else None
    except ValueError:  # a newer server's code: its fix text is shown instead
        return None


def _result(data: dict[str, Any], what: str) -> ActionResult:
    outcome = parse(OutcomeView, data)
    messages = (*outcome.warnings, *outcome.messages)
    if outcome.changed:
        return ActionResult(f"{what}: done, now {outcome.after}", messages)
    return ActionResult(messages[0] if messages else f"{what}: nothing changed, still {outcome.after}", messages[1:])
