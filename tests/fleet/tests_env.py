"""The environment for child processes (the repo's src on PYTHONPATH, no NIJA_ variables)."""

from __future__ import annotations

import os
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NIJA_")}
    base["PYTHONPATH"] = os.pathsep.join([str(SRC), base.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return base
