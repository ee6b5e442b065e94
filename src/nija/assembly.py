"""Builds the service the same way for every entry point (CLI, API, TUI, bot), so that
listeners (audit, notifications, metrics) are attached everywhere or nowhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nija.domain.live import LivePolicy
from nija.service import SafetyService
from nija.store import open_store

if TYPE_CHECKING:
    from nija.config import NijaConfig

CONFIG_FILE = "nija.toml"


def build_service(data_dir: Path | str | None = None, *, config: NijaConfig | None = None) -> SafetyService:
    store = open_store(data_dir)
    settings = config if config is not None else _load_if_present(Path(store.location))
    policy = settings.live.policy() if settings is not None else LivePolicy()
    return SafetyService(store, policy=policy)


def _load_if_present(directory: Path) -> NijaConfig | None:
    # pydantic costs ~100 ms to import: a plain `status` without nija.toml must not pay it.
    if not (directory / CONFIG_FILE).exists():
        return None
    from nija.config import load_config

    return load_config(directory)
