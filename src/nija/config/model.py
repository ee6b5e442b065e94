"""The models of ``nija.toml`` (see ``nija.config``).

Each area owns a section model; unknown keys and bad values are refused with the key
named. A missing file means the built-in defaults. The live section is data only:
``assembly.live_policy`` turns it into the domain's policy."""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nija.config import CONFIG_FILE
from nija.domain.errors import StorageUnavailable, UsageProblem
from nija.notify.settings import NotificationSettings
from nija.observability.settings import LoggingSettings
from nija.runtime import settings as rt
from nija.store.record_file import read_text


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LiveSettings(Section):
    """The live-enable flow (DESIGN.md section 2, issue: control plane)."""

    min_dry_run_minutes: float = Field(60, ge=0)
    confirmation_minutes: float = Field(10, gt=0, le=24 * 60)
    require_second_person: bool = False
    # None: the domain's phrase (domain.live.ACKNOWLEDGMENT_PHRASE), which config does not import.
    acknowledgment_phrase: str | None = Field(None, min_length=10)


class ApiSettings(Section):
    """The HTTP API and web control center (``nija serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=1, le=65535)
    cors_origins: tuple[str, ...] = ()  # none: the control center is served same-origin
    failed_auth_limit: int = Field(10, ge=1)  # failed authentications per client ...
    failed_auth_window_seconds: float = Field(60, gt=0)  # ... per this window, then 429
    failed_auth_max_clients: int = Field(10_000, ge=1)  # addresses remembered at most (least recent forgotten)
    # Reverse proxies (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are
    # believed. None by default: the TCP peer is the client, so nobody can pick the address
    # the failed-authentication limit counts against by sending a header.
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        networks = []
        for item in value:
            try:
                networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network: list the proxies' addresses, such as "
                    "'127.0.0.1' or '10.0.0.0/24' (a wildcard would let any client choose its address)"
                ) from None
        return tuple(networks)


class StoreSettings(Section):
    """How a bot reaches the fleet database (docs/fleet.md, "The host agent")."""

    # The host agent's socket: the bot's view, change feed and heartbeats go through it
    # (one connection per host). None: the bot holds its own connections (one bot, a test).
    agent: Path | None = None

    @field_validator("agent")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError(
                f"{str(value)!r} is not an absolute path: name the agent's socket, such as '/run/nija/agent.sock'"
            )
        return value


class NijaConfig(Section):
    live: LiveSettings = LiveSettings()
    store: StoreSettings = StoreSettings()
    exchange: rt.ExchangeSettings = rt.ExchangeSettings()
    feed: rt.FeedSettings = rt.FeedSettings()
    strategy: rt.StrategySettings = rt.StrategySettings()
    risk: rt.RiskSettings = rt.RiskSettings()
    paper: rt.PaperSettings = rt.PaperSettings()
    bot: rt.BotSettings = rt.BotSettings()
    notifications: NotificationSettings = NotificationSettings()
    logging: LoggingSettings = LoggingSettings()
    api: ApiSettings = ApiSettings()

    @model_validator(mode="after")
    def _entries_inside_the_collar(self) -> NijaConfig:
        s, r = self.strategy, self.risk
        if s.order_type == "limit" and not s.limit_offset_pct < r.price_collar_pct:
            raise ValueError(
                f"strategy.limit_offset_pct ({s.limit_offset_pct:g}) must be below risk.price_collar_pct "
                f"({r.price_collar_pct:g}): every limit entry would be denied RISK_PRICE_COLLAR"
            )
        return self


def load_config(data_dir: Path, path: Path | None = None) -> NijaConfig:
    """Read ``nija.toml`` (or ``path``); refuse unknown keys and bad values by name."""
    file = path or data_dir / CONFIG_FILE
    try:
        text = read_text(file)
    except FileNotFoundError:
        if path is not None:
            raise UsageProblem(f"Configuration file {file} does not exist", "Check the --config path") from None
        return NijaConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageUnavailable(
            f"Cannot read configuration {file}: {exc}",
            "Make the file (and its directory) readable by the user running NIJA",
        ) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageProblem(f"Invalid TOML in configuration {file}: {exc}", "Fix the TOML syntax") from exc
    try:
        return NijaConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise UsageProblem(
            f"Invalid configuration {file}: {problems}",
            "Fix or remove the named keys (see docs for the allowed keys and values)",
        ) from exc


def load_config_lenient(data_dir: Path, warn: Callable[[str], None]) -> NijaConfig:
    """For diagnosis and recovery (``status``, ``history``, ``kill``, ``restore``, ``reset``,
    the TUI, ``serve``): a typo in an unrelated key must not stop "always run status first".

    Each section that validates is kept; a bad or unknown section falls back to its
    defaults and is named through ``warn``. Commands whose behaviour the settings change
    (``nija run``, ``live``) use :func:`load_config` and refuse instead."""
    try:
        return load_config(data_dir)
    except UsageProblem as exc:
        problem = exc.message
    except StorageUnavailable as exc:
        warn(f"{exc.message}; using the built-in defaults")
        return NijaConfig()
    raw = _parsed_or_none(data_dir / CONFIG_FILE)
    if raw is None:
        warn(f"{problem}; using the built-in defaults for every setting")
        return NijaConfig()
    kept: dict[str, object] = {}
    dropped: list[str] = []
    for name, value in raw.items():
        field = NijaConfig.model_fields.get(name)
        if field is None:
            dropped.append(f"[{name}] (unknown section)")
            continue
        try:
            NijaConfig.model_validate({name: value})
        except ValidationError:
            dropped.append(f"[{name}]")
            continue
        kept[name] = value
    warn(
        f"{problem}. Carrying on with the built-in defaults for {', '.join(dropped)}: "
        "the kill switch and the trading state do not depend on them"
    )
    return NijaConfig.model_validate(kept)


def _parsed_or_none(file: Path) -> dict[str, object] | None:
    try:
        return tomllib.loads(read_text(file))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
