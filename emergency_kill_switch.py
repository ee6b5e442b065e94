#!/usr/bin/env python3
"""Shim: `python emergency_kill_switch.py ...` from the repository root (see README)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from nija.cli.main import emergency_kill_switch

if __name__ == "__main__":
    emergency_kill_switch(prog_name="emergency_kill_switch.py")
