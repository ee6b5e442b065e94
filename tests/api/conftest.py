"""The app in process (FastAPI's test client) on a real data directory, with one token per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nija.api.app import create_app
from nija.api.tokens import Role, TokenFile
from nija.config import ApiSettings, LiveSettings, NijaConfig
from nija.store.json_files import JsonFileStore
from nija.testing import FakeClock, HeartbeatBot

ROLES = ("viewer", "operator", "admin")


@pytest.fixture
def tokens(data_dir: Path) -> dict[str, str]:
    """Bearer tokens by name: ``viewer``, ``operator``, ``admin`` and a second admin ``admin2``."""
    file = TokenFile(data_dir)
    made = {name: file.create(name, Role(name), "test")[0] for name in ROLES}
    made["admin2"] = file.create("admin2", Role.ADMIN, "test")[0]
    return made


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIJA_API_KEY", "test-key")
    monkeypatch.setenv("NIJA_API_SECRET", "test-secret")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bot(data_dir: Path, clock: FakeClock) -> HeartbeatBot:
    """A running DRY_RUN bot's heartbeat on ``data_dir`` (live requests need one)."""
    return HeartbeatBot(JsonFileStore(data_dir), clock)


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(data_dir: Path, clock: FakeClock) -> Iterator[MakeClient]:
    """Build a client for ``data_dir`` with live settings (min DRY_RUN 0 by default)."""
    clients: list[TestClient] = []

    def make(*, api: ApiSettings | None = None, **live: object) -> TestClient:
        settings = LiveSettings.model_validate({"min_dry_run_minutes": 0, **live})
        config = NijaConfig(live=settings, api=api or ApiSettings())
        client = TestClient(create_app(data_dir, config, clock=clock))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def auth(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Request headers by token name, plus ``none`` (no header) and ``wrong`` (unknown token)."""
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    return {**headers, "none": {}, "wrong": {"Authorization": "Bearer nija_not-a-real-token"}}
