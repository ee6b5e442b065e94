"""NIJA: a safety control plane for automated trading bots."""

# Nothing is imported here: the emergency path raises the kill file before NIJA loads
# (``nija.emergency``). The names below load on first use (``nija.guard`` imports ccxt).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from nija.domain.errors import NijaError
    from nija.domain.states import Mode, TradingState
    from nija.guarded import guard

__all__ = ["Mode", "NijaError", "TradingState", "guard"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name == "NijaError":
        from nija.domain.errors import NijaError

        return NijaError
    if name in ("Mode", "TradingState"):
        from nija.domain import states

        return getattr(states, name)
    if name == "guard":
        from nija.guarded import guard

        return guard
    raise AttributeError(f"module 'nija' has no attribute {name!r}")
