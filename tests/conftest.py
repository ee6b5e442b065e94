"""Shared fixtures: a fresh data directory and a runner for the real command-line scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

Run = Callable[..., subprocess.CompletedProcess[str]]


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for a child process: the repo's src first, no colour, UTF-8."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIJA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(NO_COLOR="1", PYTHONIOENCODING="utf-8", COLUMNS="200")
    env.update(extra)
    return env


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def run(data_dir: Path) -> Run:
    """Run a root script (``safe_restore_trading.py``, ``emergency_kill_switch.py``) or
    ``nija`` (``python -m nija``) in a real process against ``data_dir``."""

    def runner(
        script: str,
        *args: str,
        input: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "nija"] if script == "nija" else [sys.executable, str(REPO / script)]
        return subprocess.run(
            [*command, *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=cwd or data_dir,
            env=cli_env(**(env or {})),
            timeout=timeout,
            check=False,
        )

    return runner
