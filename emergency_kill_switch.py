#!/usr/bin/env python3
"""Shim: `python emergency_kill_switch.py ...` from the repository root (see README).
os.path, not pathlib: `activate` raises the kill file before anything else loads."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "src"))

from nija.cli.entry import emergency_kill_switch

if __name__ == "__main__":
    emergency_kill_switch(prog_name="emergency_kill_switch.py")
