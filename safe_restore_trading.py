#!/usr/bin/env python3
"""Shim: `python safe_restore_trading.py ...` from the repository root (see README)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "src"))

from nija.cli.entry import safe_restore_trading

if __name__ == "__main__":
    safe_restore_trading(prog_name="safe_restore_trading.py")
