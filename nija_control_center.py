#!/usr/bin/env python3
"""Shim: `python nija_control_center.py ...` from the repository root (see docs/tui.md)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from nija.cli.monitor import monitor

if __name__ == "__main__":
    monitor(prog_name="nija_control_center.py")
