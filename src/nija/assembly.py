"""Builds the service the same way for every entry point (CLI, API, TUI, bot), so that
listeners (audit, notifications, metrics) are attached everywhere or nowhere."""

from __future__ import annotations

from pathlib import Path

from nija.config import NijaConfig, load_config
from nija.service import SafetyService
from nija.store import StoreSelection, config_dir, open_store


def build_service(
    data_dir: Path | str | None = None,
    *,
    config: NijaConfig | None = None,
    selection: StoreSelection | None = None,
) -> SafetyService:
    """``selection`` None: NIJA_STORE / NIJA_BOT decide, else the JSON files of ``data_dir``."""
    store = open_store(data_dir, selection)
    settings = config if config is not None else load_config(config_dir(data_dir))
    return SafetyService(store, policy=settings.live.policy())
