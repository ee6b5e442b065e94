"""The one place that wires: builds the service the same way for every entry point (CLI,
API, TUI, bot), with the accountability listeners attached everywhere or nowhere, and
returns the parts it wired (``Wired``) so that nobody has to look for them afterwards.

Listeners go on in the order that matters: the audit record first (the proof), then
metrics and logs, then notifications (queued). Heavy libraries (structlog,
prometheus-client, apprise, pydantic) load only when used: every CLI command, even a
plain ``status``, builds its service here."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from nija.config import CONFIG_FILE
from nija.observability.event_logger import EventLogger
from nija.observability.metrics import Metrics
from nija.service import SafetyService, system_clock
from nija.service_changes import Listener, Recorder
from nija.store import Store, StoreSelection, config_dir, open_store
from nija.store.json_files import JsonFileStore

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from nija.audit.log import AuditLog
    from nija.audit.reconcile import AuditTrail
    from nija.config import LiveSettings, NijaConfig
    from nija.domain.clock import Clock
    from nija.domain.events import Event
    from nija.domain.live import LivePolicy
    from nija.domain.records import Snapshot
    from nija.domain.transitions import Who

__all__ = ["CONFIG_FILE", "Wired", "audit_trail", "build_service", "live_policy", "wire"]


class Wired(NamedTuple):
    """What ``wire`` built: the service and the listeners other parts need by name (a
    NamedTuple: a tenth of a frozen dataclass's cost to define, on every command's start)."""

    service: SafetyService
    metrics: Metrics  # served by ``nija serve`` (/metrics) and ``nija run --metrics-port``
    directory: Path  # nija.toml and the audit trail live here for every store


class DirectoryAuditTrail:
    """The audit trail of a data directory's JSON files (``nija.audit.reconcile``), loaded
    at its first record: a ``status`` that changes nothing never imports the audit code."""

    __name__ = "audit"  # how SafetyService names this listener in listener_errors

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._trail: AuditTrail | None = None
        self._building = threading.Lock()  # one trail per service, whichever thread records first

    @property
    def trail(self) -> AuditTrail:
        if self._trail is None:
            with self._building:
                if self._trail is None:
                    from nija.audit.log import AuditLog
                    from nija.audit.reconcile import AuditTrail

                    self._trail = AuditTrail(AuditLog(self.directory))
        return self._trail

    def __call__(self, event: Event) -> None:
        self.trail(event)

    def record(self, snapshot: Snapshot, events: Sequence[Event]) -> object:
        return self.trail.record(snapshot, events)


def audit_trail(service: SafetyService) -> AuditTrail | None:
    """The complete audit trail of a data directory's JSON files, if the service keeps one."""
    recorder = service.recorder
    return recorder.trail if isinstance(recorder, DirectoryAuditTrail) else None


def wire(
    data_dir: Path | str | None = None,
    *,
    config: NijaConfig | None = None,
    selection: StoreSelection | None = None,
    store: Store | None = None,
    config_warning: Callable[[str], None] | None = None,
    config_problem: str | None = None,
    clock: Clock = system_clock,
    bot_run: bool = False,
) -> Wired:
    """``store``: an already opened store (a guarded bot's fleet scope); else ``selection``;
    ``selection`` None: NIJA_STORE / NIJA_BOT decide, else the JSON files of ``data_dir``.

    ``config_warning`` given: a bad ``nija.toml`` is reported through it and its valid
    sections are used (diagnosis and recovery); otherwise it is refused (exit 2).
    ``config_problem``: the caller carries on past a bad ``nija.toml`` it already found
    (``nija serve``): the live flow refuses. ``clock``: for tests (expiry without waiting).
    ``bot_run``: the caller is the directory's bot (its kill file is its own, below)."""
    given = store is not None  # a caller's store (nija.guard(store=)) stays the caller's
    store = store if store is not None else open_store(data_dir, selection)
    directory = config_dir(data_dir)
    problems: list[str] = []

    def noted(message: str) -> None:
        problems.append(message)
        if config_warning is not None:
            config_warning(message)

    lenient = noted if config_warning is not None else None
    settings = config if config is not None else _load_if_present(directory, lenient)
    if settings is not None and settings.store.agent is not None and not given:
        store = _through_agent(store, settings.store.agent)
    _watch_kill_file(store, data_dir, bot_run)
    recorder = _recorder(store, directory)
    # Bots of this directory hear a kill directly when it cannot be written to disk.
    service = SafetyService(
        store,
        clock=clock,
        policy=live_policy(settings.live) if settings is not None else None,
        # Not beside the store's history: each host also keeps its own trail of what was
        # done from here (order denials too), appended after the commit, as a listener.
        listeners=[] if isinstance(recorder, DirectoryAuditTrail) else [_audit_log(directory)],
        recorder=recorder,
        config_problem=config_problem if config_problem is not None else (problems[0] if problems else None),
        messenger=functools.partial(_tell_bots, directory),
        credentials=functools.partial(_credentials_configured, directory),
    )
    metrics = _attach_accountability(service, directory, settings)
    _attach_exchange_checks(service, directory, settings)
    _attach_account_check(service, settings)
    return Wired(service, metrics, directory)


def build_service(
    data_dir: Path | str | None = None,
    *,
    config: NijaConfig | None = None,
    selection: StoreSelection | None = None,
    store: Store | None = None,
    config_warning: Callable[[str], None] | None = None,
    clock: Clock = system_clock,
    bot_run: bool = False,
) -> SafetyService:
    """``wire(...).service``, for the front ends that need no other wired part."""
    return wire(
        data_dir,
        config=config,
        selection=selection,
        store=store,
        config_warning=config_warning,
        clock=clock,
        bot_run=bot_run,
    ).service


def live_policy(live: LiveSettings) -> LivePolicy:
    """nija.toml ``[live]`` as the domain's policy (the domain's phrase unless one is set)."""
    from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy

    return LivePolicy(
        min_dry_run=timedelta(minutes=live.min_dry_run_minutes),
        confirmation_window=timedelta(minutes=live.confirmation_minutes),
        require_second_person=live.require_second_person,
        phrase=live.acknowledgment_phrase if live.acknowledgment_phrase is not None else ACKNOWLEDGMENT_PHRASE,
    )


def _recorder(store: Store, directory: Path) -> Recorder | None:
    """The audit trail kept under the store's lock, when it can be: the JSON files beside
    it, or the fleet's chain in the database (written in each change's own transaction)."""
    if isinstance(store, JsonFileStore) and store.data_dir.resolve() == directory.resolve():
        return DirectoryAuditTrail(directory)  # complete: audited under the store's lock
    from nija.audit.fleet import FleetAuditStore, FleetAuditTrail

    if isinstance(store, FleetAuditStore):
        return FleetAuditTrail(store)
    return None


def _audit_log(directory: Path) -> AuditLog:
    """This host's own trail, appended after each commit (a store without one beside it)."""
    from nija.audit.log import AuditLog

    return AuditLog(directory)


def _attach_accountability(service: SafetyService, directory: Path, config: NijaConfig | None) -> Metrics:
    """After the audit record (the proof, first): metrics and logs, then notifications."""
    metrics = Metrics(service.status)
    listeners: list[Listener] = [metrics, EventLogger()]
    if config is not None:
        from nija.observability.logs import configure_logging

        configure_logging(config.logging, directory)
        if config.notifications.urls:
            from nija.notify.sender import Notifier

            listeners.append(Notifier(config.notifications, str(directory), on_failure=metrics.notification_failed))
    service.listeners.extend(listeners)
    return metrics


def _tell_bots(directory: Path, reason: str, who: Who, now: datetime) -> tuple[int, ...]:
    # Loaded only when a kill cannot be written to disk: sockets and threads cost every command.
    from nija.kill_channel import tell_bots

    return tell_bots(directory, reason, who, now)


def _credentials_configured(directory: Path) -> bool:
    from nija.credentials import load_credentials  # tomllib: only for a live request

    return load_credentials(directory) is not None


def _through_agent(store: Store, socket_path: Path) -> Store:
    """A bot of the fleet store talks to the database through its host's agent; the
    fleet's and accounts' scopes (serve, status --fleet, --account) and the JSON files
    are left as they are."""
    from nija.store.postgres import PostgresStore

    if not isinstance(store, PostgresStore) or store.is_group:  # the fleet or an account: no bot
        return store
    from nija.store.agent import AgentStore

    store.close()  # unused so far: the agent-served store replaces it
    return AgentStore(store.url, bot=store.scope, socket_path=socket_path, stale_after_s=store.stale_after_s)


def _watch_kill_file(store: Store, data_dir: Path | str | None, bot_run: bool) -> None:
    """A bot on the fleet store obeys the kill file of its data directory as a bot on the
    JSON files does (invariant 10): every front end wired here (nija run, the guard, even
    with its caller's store, compat, the bridge, status, the API, the TUI) sees it.

    Whose directory: a bot run's own (``bot_run``: its working place, the current
    directory by default); for any other command only a directory named by --data-dir or
    NIJA_DATA_DIR. A status run from wherever an operator stands must not record a kill
    on a bot elsewhere, nor refuse its deactivation, because of a file that is not that
    bot's. Absolute: a process that changes its working directory keeps watching it."""
    watch: Callable[[Path], None] | None = getattr(store, "watch_kill_file", None)  # the fleet store's
    named = data_dir is not None or bool(os.environ.get("NIJA_DATA_DIR"))
    if watch is not None and (bot_run or named):
        watch(config_dir(data_dir).resolve())


def _attach_exchange_checks(service: SafetyService, directory: Path, settings: NijaConfig | None) -> None:
    """A live request also needs what the running bot read from the exchange (issue 13).
    Imported only when a live request is made: a plain ``status`` must not pay pydantic."""

    def check(now: datetime) -> tuple[str, ...]:
        from nija.domain.diagnosis import report
        from nija.exchange_checks import live_request_check

        exchange = settings.exchange if settings is not None else None
        return live_request_check(
            directory,
            bot_alive=lambda at: report(service.snapshot(), at, history_items=0).bot_alive,
            reconcile_s=exchange.reconcile_s if exchange else 30.0,
            tolerance=exchange.exposure_tolerance if exchange else 0.0,
            require_dead_man_switch=exchange.require_dead_man_switch if exchange else False,
            require_key_attestation=exchange.require_key_attestation if exchange else False,
        )(now)

    service.live_request_checks.append(check)


def _attach_account_check(service: SafetyService, settings: NijaConfig | None) -> None:
    """A bot of the fleet store with ``[exchange] account``: live only once the database
    knows its account (else the account's kill would miss it)."""
    store = service.store
    account = settings.exchange.account if settings is not None else None
    # By its method, not its class: the JSON files must not load psycopg for this.
    if account is None or not hasattr(store, "declared_account") or getattr(store, "is_group", True):
        return
    from nija.account_declared import account_declared_check

    bot = str(getattr(store, "scope", ""))
    service.live_request_checks.append(account_declared_check(bot, account, store.declared_account))


def _load_if_present(directory: Path, warn: Callable[[str], None] | None) -> NijaConfig | None:
    # pydantic costs ~100 ms to import: a plain `status` without nija.toml must not pay it.
    if not (directory / CONFIG_FILE).exists():
        return None
    from nija.config import load_config, load_config_lenient

    return load_config(directory) if warn is None else load_config_lenient(directory, warn)
