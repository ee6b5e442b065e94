"""Loaded by every child Python process whose PYTHONPATH has this directory: with
FAKE_KRAKEN_DIR set, every requests session sends api.kraken.com to the fake exchange
in that directory (ccxt's HTTP layer; ccxt itself is real). Nothing else changes."""

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

    requests.Session.__init__ = _init  # type: ignore[method-assign]
