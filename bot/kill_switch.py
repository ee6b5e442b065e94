"""Shim: the original bot's ``bot/kill_switch.py``, backed by NIJA (docs/compat.md).

Importable as ``bot.kill_switch`` and, with ``bot/`` on sys.path, as ``kill_switch``:
both names are the one module ``nija.compat.kill_switch``, so there is one singleton."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what this module becomes at run time, for type checkers
    from nija.compat.kill_switch import *  # noqa: F403

_root = Path(__file__).resolve().parent.parent
if (_root / "src" / "nija").is_dir() and str(_root / "src") not in sys.path:
    sys.path.insert(0, str(_root / "src"))  # running from a NIJA checkout

import nija.compat  # noqa: E402 - after the path set-up above
import nija.compat.kill_switch  # noqa: E402

nija.compat.use_project_root(_root)  # the original's default data directory
sys.modules[__name__] = nija.compat.kill_switch
