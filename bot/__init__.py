"""Shim package: the original bot's ``bot`` package, whose ``kill_switch`` and
``trading_state_machine`` modules are NIJA's (see docs/compat.md). An operator of the
original bot keeps their own ``bot/__init__.py`` and copies only the two modules."""
