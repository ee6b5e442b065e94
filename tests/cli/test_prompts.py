"""Prompts: refuse without a terminal, ask on a real pseudo-terminal, never ask to kill."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from nija.service import system_clock
from nija.store.json_files import JsonFileStore
from nija.testing import HeartbeatBot
from tests.conftest import REPO, Run, cli_env


def run_on_pty(
    args: list[str],
    answer: str,
    cwd: Path,
    before_answer: Callable[[], None] = lambda: None,
    prompt: bytes = b"[yes/no]",
) -> tuple[int, str]:
    """Run a command with a real TTY on stdin, answer its prompt (after ``before_answer``),
    return (code, output)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=cli_env(),
        close_fds=True,
    )
    os.close(follower)
    output = b""
    answered = False
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and prompt in output:
            before_answer()
            os.write(leader, answer.encode() + b"\n")
            answered = True
    os.close(leader)
    return proc.wait(timeout=30), output.decode(errors="replace")


def test_restore_without_terminal_and_without_yes_refuses(run: Run, data_dir: Path) -> None:
    result = run("safe_restore_trading.py", "restore")
    assert result.returncode == 3
    assert "--yes" in result.stderr
    assert not (data_dir / ".nija_trading_state.json").exists()


def test_restore_asks_on_a_terminal_and_yes_proceeds(data_dir: Path) -> None:
    code, out = run_on_pty([str(REPO / "safe_restore_trading.py"), "restore"], "yes", data_dir)
    assert code == 0, out
    assert "OFF → DRY_RUN" in out
    assert json.loads((data_dir / ".nija_trading_state.json").read_text())["current_state"] == "DRY_RUN"


def test_declining_the_prompt_changes_nothing(data_dir: Path) -> None:
    code, out = run_on_pty([str(REPO / "safe_restore_trading.py"), "restore"], "no", data_dir)
    assert code == 3, out
    assert "Declined" in out
    assert not (data_dir / ".nija_trading_state.json").exists()


def test_activation_never_prompts_even_without_terminal(run: Run) -> None:
    result = run("emergency_kill_switch.py", "activate", "now")
    assert result.returncode == 0
    assert "[yes/no]" not in result.stdout


def test_deactivation_prompts_on_a_terminal(run: Run, data_dir: Path) -> None:
    assert run("emergency_kill_switch.py", "activate", "drill").returncode == 0
    code, out = run_on_pty([str(REPO / "emergency_kill_switch.py"), "deactivate", "drill over"], "no", data_dir)
    assert code == 3
    assert json.loads((data_dir / ".nija_kill_switch_state.json").read_text())["is_active"] is True
    code, out = run_on_pty([str(REPO / "emergency_kill_switch.py"), "deactivate", "drill over"], "yes", data_dir)
    assert code == 0, out
    assert json.loads((data_dir / ".nija_kill_switch_state.json").read_text())["is_active"] is False


def test_when_a_new_kill_arrives_while_the_deactivation_prompt_waits_then_it_is_refused(
    run: Run, data_dir: Path
) -> None:
    assert run("emergency_kill_switch.py", "activate", "drill").returncode == 0

    def another_operator_kills() -> None:
        assert run("emergency_kill_switch.py", "activate", "exchange hacked").returncode == 0

    code, out = run_on_pty(
        [str(REPO / "emergency_kill_switch.py"), "deactivate", "drill over"], "yes", data_dir, another_operator_kills
    )
    assert code == 3, out
    assert "changed since you looked" in out
    kill = json.loads((data_dir / ".nija_kill_switch_state.json").read_text())
    assert kill["is_active"] is True
    assert (data_dir / "EMERGENCY_STOP").exists()


def test_ctrl_d_at_the_live_phrase_prompt_declines_with_exit_3(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    assert run("nija", "restore", "--yes").returncode == 0
    creds = {"NIJA_API_KEY": "k", "NIJA_API_SECRET": "s"}
    bot = HeartbeatBot(JsonFileStore(data_dir), system_clock)  # live is granted to a running bot
    requested = run("nija", "live", "request", "--json", env=creds)
    assert requested.returncode == 0, requested.stderr
    code = json.loads(requested.stdout)["code"]
    bot.step()
    exit_code, out = run_on_pty(["-m", "nija", "live", "confirm", code], "\x04", data_dir, prompt=b"Acknowledgment")
    assert exit_code == 3, out
    assert "Declined" in out
    assert "Aborted" not in out
    status = json.loads(run("nija", "status", "--json").stdout)
    assert status["state"] == "LIVE_PENDING_CONFIRMATION"


def test_with_json_the_prompt_goes_to_stderr_and_stdout_stays_json(run: Run, data_dir: Path) -> None:
    assert run("emergency_kill_switch.py", "activate", "drill").returncode == 0
    leader, follower = pty.openpty()  # a terminal on stdin only; stdout and stderr are pipes
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "emergency_kill_switch.py"), "deactivate", "--json", "drill over"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=data_dir,
        env=cli_env(),
    )
    os.close(follower)
    os.write(leader, b"yes\n")  # the terminal buffers the answer until the prompt reads it
    stdout, stderr = proc.communicate(timeout=30)
    os.close(leader)
    assert proc.returncode == 0, stderr
    assert b"[yes/no]" in stderr
    assert json.loads(stdout)["kill_active"] is False


def test_a_bare_touch_while_the_deactivation_prompt_waits_is_refused_with_nothing_written(
    run: Run, data_dir: Path
) -> None:
    assert run("emergency_kill_switch.py", "activate", "drill").returncode == 0
    records = [data_dir / ".nija_trading_state.json", data_dir / ".nija_kill_switch_state.json"]
    before: list[bytes] = []

    def someone_touches_the_kill_file() -> None:
        assert subprocess.run(["touch", str(data_dir / "EMERGENCY_STOP")], check=False).returncode == 0
        before.extend(p.read_bytes() for p in records)

    code, out = run_on_pty(
        [str(REPO / "emergency_kill_switch.py"), "deactivate", "drill over"],
        "yes",
        data_dir,
        someone_touches_the_kill_file,
    )
    assert code == 3, out
    assert "changed since you looked" in out
    assert [p.read_bytes() for p in records] == before
    assert json.loads((data_dir / ".nija_kill_switch_state.json").read_text())["is_active"] is True


def test_an_interactive_restore_whose_plan_changed_while_shown_is_still_refused(run: Run, data_dir: Path) -> None:
    def someone_restores_first() -> None:
        assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0

    code, out = run_on_pty([str(REPO / "safe_restore_trading.py"), "restore"], "yes", data_dir, someone_restores_first)
    assert code == 3, out
    assert "changed while the plan was shown" in out
