"""Fake exchange servers at ccxt's HTTP layer (the requests transport), for tests only."""
