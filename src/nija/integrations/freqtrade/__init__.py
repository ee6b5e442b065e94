"""freqtrade under NIJA's kill switch (docs/guard.md):

- ``nija.integrations.freqtrade.strategy.NijaEntryGuard``: a strategy mixin that asks
  NIJA in freqtrade's ``confirm_trade_entry`` callback (standard library only, so it
  runs inside freqtrade's own environment);
- ``nija bridge freqtrade``: follows NIJA's state and drives freqtrade's REST API on a
  kill (stop entries, cancel open orders, optionally force-exit, then confirm)."""
