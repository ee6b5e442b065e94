"""NIJA: a safety control plane for automated trading bots."""

from nija.domain.errors import NijaError
from nija.domain.states import Mode, TradingState

__all__ = ["Mode", "NijaError", "TradingState"]
__version__ = "0.1.0"
