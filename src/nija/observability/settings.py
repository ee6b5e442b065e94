"""``[logging]`` in nija.toml (kept apart from logs.py so reading it does not import structlog)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class LoggingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["console", "json"] = "console"
    level: Literal["debug", "info", "warning", "error"] = "warning"
    file: str | None = None  # relative to the data directory; default: standard error
