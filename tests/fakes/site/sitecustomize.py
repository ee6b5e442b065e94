"""Loaded by every child Python process whose PYTHONPATH has this directory: with
FAKE_KRAKEN_DIR set, every requests session sends api.kraken.com to the fake exchange
in that directory (ccxt's HTTP layer; ccxt itself is real), and ccxt's client-side rate
limiter does not wait: it spaces calls for the real venue's limits (3 s per private call
to Kraken), which the fake does not have, so the tests waited mostly on it. Nothing else
changes."""

import os

if os.environ.get("FAKE_KRAKEN_DIR"):
    import sys
    from pathlib import Path

    import requests

    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from tests.fakes.kraken import FakeKrakenAdapter

    _original_init = requests.Session.__init__

    def _init(self: requests.Session) -> None:
        _original_init(self)
        self.mount("https://api.kraken.com/", FakeKrakenAdapter(Path(os.environ["FAKE_KRAKEN_DIR"])))
        # ccxt builds its session in Exchange.__init__, so ccxt is loaded by now when it asks.
        exchange = sys.modules.get("ccxt.base.exchange")
        if exchange is not None:
            exchange.Exchange.throttle = _no_wait

    def _no_wait(self: object, cost: object = None) -> None:
        """The fake venue has no rate limit to respect."""

    requests.Session.__init__ = _init  # type: ignore[method-assign]
