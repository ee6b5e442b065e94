#!/usr/bin/env python3
"""Shim: `python safe_restore_trading.py ...` from the repository root (see README)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from nija.cli.main import safe_restore_trading

if __name__ == "__main__":
    safe_restore_trading(prog_name="safe_restore_trading.py")
