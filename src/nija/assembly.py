"""Builds the service the same way for every entry point (CLI, API, TUI, bot), so that
listeners (audit, notifications, metrics) are attached everywhere or nowhere."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from nija.domain.live import LivePolicy
from nija.kill_channel import tell_bots
from nija.observability.wiring import attach_accountability
from nija.service import SafetyService
from nija.store import StoreSelection, config_dir, open_store

if TYPE_CHECKING:
    from nija.config import NijaConfig

CONFIG_FILE = "nija.toml"


def build_service(
    data_dir: Path | str | None = None,
    *,
    config: NijaConfig | None = None,
    selection: StoreSelection | None = None,
    config_warning: Callable[[str], None] | None = None,
) -> SafetyService:
    """``selection`` None: NIJA_STORE / NIJA_BOT decide, else the JSON files of ``data_dir``.

    ``config_warning`` given: a bad ``nija.toml`` is reported through it and its valid
    sections are used (diagnosis and recovery); otherwise it is refused (exit 2)."""
    store = open_store(data_dir, selection)
    directory = config_dir(data_dir)  # nija.toml and the audit trail live here for every store
    problems: list[str] = []

    def noted(message: str) -> None:
        problems.append(message)
        if config_warning is not None:
            config_warning(message)

    lenient = noted if config_warning is not None else None
    settings = config if config is not None else _load_if_present(directory, lenient)
    policy = settings.live.policy() if settings is not None else LivePolicy()
    # Bots of this directory hear a kill directly when it cannot be written to disk.
    service = SafetyService(
        store,
        policy=policy,
        config_problem=problems[0] if problems else None,
        messenger=functools.partial(tell_bots, directory),
    )
    attach_accountability(service, directory, settings)
    _attach_exchange_checks(service, directory, settings)
    return service


def _attach_exchange_checks(service: SafetyService, directory: Path, settings: NijaConfig | None) -> None:
    """A live request also needs what the running bot read from the exchange (issue 13).
    Imported only when a live request is made: a plain ``status`` must not pay pydantic."""

    def check() -> tuple[str, ...]:
        from nija.exchange_checks import live_request_check

        exchange = settings.exchange if settings is not None else None
        return live_request_check(
            directory,
            bot_alive=lambda: service.status(history_items=0).bot_alive,
            clock=lambda: service.clock(),
            reconcile_s=exchange.reconcile_s if exchange else 30.0,
            tolerance=exchange.exposure_tolerance if exchange else 0.0,
            require_dead_man_switch=exchange.require_dead_man_switch if exchange else False,
            require_key_attestation=exchange.require_key_attestation if exchange else False,
        )()

    service.live_request_checks.append(check)


def _load_if_present(directory: Path, warn: Callable[[str], None] | None) -> NijaConfig | None:
    # pydantic costs ~100 ms to import: a plain `status` without nija.toml must not pay it.
    if not (directory / CONFIG_FILE).exists():
        return None
    from nija.config import load_config, load_config_lenient

    return load_config(directory) if warn is None else load_config_lenient(directory, warn)
