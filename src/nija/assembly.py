"""Builds the service the same way for every entry point (CLI, API, TUI, bot), so that
listeners (audit, notifications, metrics) are attached everywhere or nowhere."""

from __future__ import annotations

from pathlib import Path

from nija.config import NijaConfig, load_config
from nija.observability.wiring import attach_accountability
from nija.service import SafetyService
from nija.store import open_store


def build_service(data_dir: Path | str | None = None, *, config: NijaConfig | None = None) -> SafetyService:
    store = open_store(data_dir)
    directory = Path(store.location)
    settings = config if config is not None else load_config(directory)
    service = SafetyService(store, policy=settings.live.policy())
    attach_accountability(service, directory, notifications=settings.notifications, logging=settings.logging)
    return service
