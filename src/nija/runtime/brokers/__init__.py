"""Brokers behind one protocol: the paper broker (DRY_RUN) and the ccxt broker (LIVE_ACTIVE)."""

from nija.runtime.brokers.base import Account, Broker, CancelResult, Holding

__all__ = ["Account", "Broker", "CancelResult", "Holding"]
