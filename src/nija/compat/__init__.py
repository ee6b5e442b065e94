"""Drop-in replacements for the original NIJA bot's ``bot/kill_switch.py`` and
``bot/trading_state_machine.py``, backed by NIJA's one SafetyService (docs/compat.md).

The original bot keeps calling ``get_kill_switch()``, ``get_state_machine()`` and their
methods; every call reads or changes NIJA's store (the guide's files in the data
directory, or the fleet database through NIJA_STORE), so a kill from the CLI, the API or
another process is seen at once, and NIJA's rules win where the original was unsafe."""

from nija.compat.backend import default_location, use_project_root

__all__ = ["default_location", "use_project_root"]
