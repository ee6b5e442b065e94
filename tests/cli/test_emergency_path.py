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


def _broken(tmp_path: Path, module: str) -> dict[str, str]:
    """An environment in which ``module`` cannot be imported."""
    fake = tmp_path / "broken"
    (fake / module).mkdir(parents=True)
    (fake / module / "__init__.py").write_text(f"raise ImportError('{module} is broken on purpose')\n")
    from tests.conftest import REPO

    return {"PYTHONPATH": f"{REPO / 'src'}:{fake}"}


def _no_click(tmp_path: Path) -> dict[str, str]:
    return _broken(tmp_path, "click")


@pytest.mark.parametrize("command", [(KILL, "activate"), ("nija", "kill", "activate")])
def test_the_kill_file_is_raised_before_the_rest_of_nija_loads(
    run: Run, data_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Every record, store and service of NIJA is a dataclass: with dataclasses broken,
    only the raise can have happened, and the message says the kill is in force."""
    result = run(*command, "runaway", "orders", env=_broken(tmp_path, "dataclasses"))
    assert result.returncode == 1, result.stderr
    assert "dataclasses is broken on purpose" in result.stderr
    assert "EMERGENCY_STOP was raised before this error, so the kill IS IN FORCE" in result.stderr
    cause = json.loads((data_dir / "EMERGENCY_STOP").read_text())
    assert (cause["reason"], cause["source"]) == ("runaway orders", "cli")


@pytest.mark.parametrize("command", [(KILL, "activate"), ("nija", "kill", "activate")])
def test_a_plain_activation_is_recorded_without_click(
    run: Run, data_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = run(*command, "runaway", "orders", "--json", env=_no_click(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kill_active"] is True
    history = json.loads(run(KILL, "history", "--json").stdout)
    [activation] = history["kill_switch"]
    assert (activation["reason"], activation["source"]) == ("runaway orders", "cli")


def test_an_activation_beyond_plain_is_left_to_click(run: Run, data_dir: Path, tmp_path: Path) -> None:
    """An option the fast path does not know: click parses it (here: cannot), nothing raised."""
    result = run(KILL, "activate", "drill", "--verbose", env=_no_click(tmp_path))
    assert result.returncode != 0
    assert "click is broken on purpose" in result.stderr
    assert not (data_dir / "EMERGENCY_STOP").exists()


def test_a_plain_status_needs_no_click_and_anything_else_does(run: Run, data_dir: Path, tmp_path: Path) -> None:
    env = _no_click(tmp_path)
    plain = run("safe_restore_trading.py", "status", "--json", env=env)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["state"] == "OFF"
    assert run("nija", "status", env=env).returncode == 0
    for other in (("status", "--fleet"), ("status", "--help"), ("history",)):
        result = run("safe_restore_trading.py", *other, env=env)
        assert "click is broken on purpose" in result.stderr, other


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
