"""NIJA: a safety control plane for automated trading bots."""

from typing import TYPE_CHECKING, Any

from nija.domain.errors import NijaError
from nija.domain.states import Mode, TradingState

if TYPE_CHECKING:
    from nija.guarded import guard

__all__ = ["Mode", "NijaError", "TradingState", "guard"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``nija.guard`` imports ccxt (slow): loaded on first use so ``import nija`` stays cheap.
    if name == "guard":
        from nija.guarded import guard

        return guard
    raise AttributeError(f"module 'nija' has no attribute {name!r}")
