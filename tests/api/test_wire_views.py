"""The wire views are declared once (``nija.views``): the API's OpenAPI contract names
the very classes the TUI parses the API's answers with, and a status goes from the
service through the view, JSON and the TUI's parse back to an equal view. The CLI's
``--json`` writer (standard library) and the API's (pydantic) write the same JSON."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from nija.api.app import create_app
from nija.api.payloads import status_payload
from nija.config import LiveSettings, NijaConfig
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.store.json_files import JsonFileStore
from nija.testing import FakeClock, HeartbeatBot
from nija.tui.frame import parse
from nija.tui.local import LocalBackend
from nija.tui.remote import RemoteBackend
from nija.views import (
    ApiStatusView,
    HistoryView,
    LiveRequestView,
    OutcomeView,
    RecoveryPlanView,
    StatusView,
    history_view,
    status_view,
    to_json,
)
from tests.conftest import cli_env

WHO = Who("alice", "cli")
RESPONSES = {
    ("get", "/api/status"): ApiStatusView,
    ("get", "/api/history"): HistoryView,
    ("get", "/api/restore/plan"): RecoveryPlanView,
    ("get", "/api/reset/plan"): RecoveryPlanView,
    ("post", "/api/kill-switch/activate"): OutcomeView,
    ("post", "/api/restore"): OutcomeView,
    ("post", "/api/live/request"): LiveRequestView,
}


def _killed_with_a_bot(data_dir: Path, clock: FakeClock) -> LocalBackend:
    """A kill whose file was then deleted (an inconsistency with its fix code) and a beating bot."""
    HeartbeatBot(JsonFileStore(data_dir), clock)
    local = LocalBackend(data_dir, clock=clock)
    local.service.activate_kill("feed outage", WHO)
    (data_dir / "EMERGENCY_STOP").unlink()
    return local


def test_the_openapi_contract_names_the_views_the_tui_parses_with(data_dir: Path, tokens: dict[str, str]) -> None:
    clock = FakeClock()
    local = _killed_with_a_bot(data_dir, clock)
    app = create_app(data_dir, NijaConfig(live=LiveSettings(min_dry_run_minutes=0)), clock=clock)
    schema = TestClient(app).get("/openapi.json").json()
    for (method, path), view in RESPONSES.items():
        ok = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{view.__name__}"}, path
    component = schema["components"]["schemas"]["ApiStatusView"]
    assert list(component["properties"]) == [name.rstrip("_") for name in ApiStatusView.__dataclass_fields__]

    async def remote_frame() -> tuple[ApiStatusView | StatusView, HistoryView]:
        remote = RemoteBackend("http://nija", tokens["admin"], transport=httpx.ASGITransport(app))
        try:
            return (await remote.frame()).status, await remote.history()
        finally:
            await remote.close()

    remote_status, remote_history = asyncio.run(remote_frame())
    assert type(remote_status) is ApiStatusView  # the /api/status model itself
    local_frame = local._frame()
    assert type(local_frame.status) is StatusView
    shared = {name: getattr(remote_status, name) for name in StatusView.__dataclass_fields__}
    assert StatusView(**shared) == local_frame.status  # both backends, one shape, equal content
    assert remote_status.kill_switch.active
    assert remote_status.inconsistencies[0].action is not None
    assert remote_history == asyncio.run(local.history())


def test_a_status_survives_view_json_and_the_tui_parse_unchanged(data_dir: Path) -> None:
    clock = FakeClock()
    local = _killed_with_a_bot(data_dir, clock)
    service = local.service
    view = status_view(service.status(), service.store.location)
    assert view.state is TradingState.EMERGENCY_STOP
    assert view.bot.alive
    assert view.inconsistencies

    document = json.dumps(to_json(view))
    assert parse(StatusView, json.loads(document)) == view

    api_view = status_payload(service, data_dir=data_dir, show_store=True)
    assert TypeAdapter(ApiStatusView).dump_python(api_view, mode="json", by_alias=True) == to_json(api_view)
    assert parse(ApiStatusView, to_json(api_view)) == api_view
    history = history_view(*service.history())
    assert parse(HistoryView, json.loads(json.dumps(to_json(history)))) == history


def test_the_views_load_without_pydantic() -> None:
    """``status --json`` is a benchmarked start-up path: its views stay standard library."""
    code = "import sys, nija.views; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
