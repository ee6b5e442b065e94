"""What the control center shows: the shared wire views (``nija.views``), as display text.

Both backends speak the same shapes: the local one builds them with ``nija.views``'
converters, the remote one parses the API's JSON with the same declarations (``parse``:
a clear error when the API answers something unexpected). Either way every text field
is then display text: unsafe characters become visible escapes (invariant 12),
whichever backend (files, a remote API) sent them."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter

from nija.bot_report import BotReport
from nija.domain.text import printable
from nija.views import StatusView

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

View = TypeVar("View", bound="DataclassInstance")


def parse(shape: type[View], data: object) -> View:
    """The API's JSON read as ``shape`` (unknown fields ignored), as display text."""
    parsed: View = _adapter(shape).validate_python(data)
    return displayable(parsed)


@functools.cache
def _adapter(shape: type[Any]) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def displayable(view: View) -> View:
    """``view`` with every text field (nested views included) escaped for the screen."""
    return dataclasses.replace(view, **{f.name: _shown(getattr(view, f.name)) for f in dataclasses.fields(view)})


def _shown(value: Any) -> Any:
    if isinstance(value, Enum):  # the domain's codes: safe by construction
        return value
    if isinstance(value, str):
        return printable(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return displayable(value)
    if isinstance(value, tuple):
        return tuple(_shown(item) for item in value)
    return value


@dataclass(frozen=True, slots=True)
class Frame:
    """One screenful: the safety status plus the running bot's report, if any."""

    status: StatusView
    runtime: BotReport | None
    runtime_note: str  # why there is no runtime data, in plain words
    warnings: tuple[str, ...] = ()  # e.g. an invalid nija.toml the control center carried on past
    stale_note: str = ""  # the runtime report cannot be vouched for (bot stopped, report old)
