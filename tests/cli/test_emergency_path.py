"""The emergency path raises the kill file before loading NIJA, and records it as one
activation: the same entries an activation always writes (real processes: the point is
what a fresh interpreter imports)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run

pytestmark = pytest.mark.process  # what a fresh interpreter imports before the raise

KILL = "emergency_kill_switch.py"


def _no_click(tmp_path: Path) -> dict[str, str]:
    """An environment whose `click` cannot be imported: everything after the raise fails."""
    fake = tmp_path / "broken"
    (fake / "click").mkdir(parents=True)
    (fake / "click" / "__init__.py").write_text("raise ImportError('click is broken on purpose')\n")
    from tests.conftest import REPO

    return {"PYTHONPATH": f"{REPO / 'src'}:{fake}"}


@pytest.mark.parametrize("command", [(KILL, "activate"), ("nija", "kill", "activate")])
def test_the_kill_file_is_raised_before_the_command_line_tools_load(
    run: Run, data_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = run(*command, "runaway", "orders", env=_no_click(tmp_path))
    assert result.returncode != 0
    assert "click is broken on purpose" in result.stderr
    cause = json.loads((data_dir / "EMERGENCY_STOP").read_text())
    assert (cause["reason"], cause["source"]) == ("runaway orders", "cli")


def test_an_early_raise_is_recorded_as_one_ordinary_activation(run: Run, data_dir: Path) -> None:
    result = run(KILL, "activate", "  runaway orders ", "--json")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["messages"] == []
    assert outcome["changed"] is True
    history = json.loads(run(KILL, "history", "--json").stdout)
    [activation] = history["kill_switch"]
    assert (activation["reason"], activation["repeated"]) == ("runaway orders", False)
    [stop] = history["transitions"]
    assert stop["timestamp"] == activation["timestamp"]  # one clock read: raise, record, stop
    cause = json.loads((data_dir / "EMERGENCY_STOP").read_text())
    assert (cause["timestamp"], cause["actor"]) == (activation["timestamp"], activation["actor"])


@pytest.mark.parametrize("reason", ["bad \x1b[2J screen", "r\u202eeason"])
def test_a_reason_the_full_command_refuses_raises_nothing_early(run: Run, data_dir: Path, reason: str) -> None:
    result = run(KILL, "activate", reason)
    assert result.returncode == 2, result.stderr
    assert "did NOT activate" in result.stderr
    assert not (data_dir / "EMERGENCY_STOP").exists()


def test_a_reason_beyond_plain_ascii_is_raised_by_the_full_command(run: Run, data_dir: Path) -> None:
    assert run(KILL, "activate", "réseau coupé").returncode == 0
    assert json.loads((data_dir / "EMERGENCY_STOP").read_text())["reason"] == "réseau coupé"


def test_a_postgres_selection_is_left_to_the_full_command(run: Run, data_dir: Path, tmp_path: Path) -> None:
    env = {**_no_click(tmp_path), "NIJA_STORE": "postgresql://nobody@127.0.0.1:1/none"}
    run(KILL, "activate", "drill", env=env)
    assert not (data_dir / "EMERGENCY_STOP").exists()
