"""Shared fixtures: a fresh data directory and a runner for the command-line scripts.

``run`` invokes the command in this process through click's ``CliRunner`` (fast: no
interpreter start, no imports), with the same environment, working directory and
stdout/stderr split a child process would get. A test marked ``@pytest.mark.process``
gets a real child process instead: for what only a process shows (the real entry
point's exit code, signals, races, what happens before the imports, start-up)."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
import structlog
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent

Run = Callable[..., subprocess.CompletedProcess[str]]

# Set to 1, every ``run`` starts a real process, as before the in-process runner
# (benchmarks/test_suite_time.py compares the two on one selection).
ALL_AS_PROCESSES = "NIJA_TESTS_ALL_AS_PROCESSES"

# What a child process gets besides the parent's environment (NIJA_* removed).
CHILD_ENV = {"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for a child process: the repo's src first, no colour, UTF-8."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIJA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(CHILD_ENV)
    env.update(extra)
    return env


# The programs whose entry points (nija.cli.entry) serve a plain activation or status first.
FAST_PATH_PROGRAMS = {
    "nija": "nija",
    "emergency_kill_switch.py": "emergency_kill_switch",
    "safe_restore_trading.py": "safe_restore_trading",
}


def script_command(script: str) -> click.Command:
    """The click command a root script (or ``nija``) runs; imported on first use."""
    if script == "nija":
        from nija.cli.main import nija

        return nija
    if script == "safe_restore_trading.py":
        from nija.cli.main import safe_restore_trading

        return safe_restore_trading
    if script == "emergency_kill_switch.py":
        from nija.cli.main import emergency_kill_switch

        return emergency_kill_switch
    if script == "nija_control_center.py":
        from nija.cli.monitor import monitor

        return monitor
    raise ValueError(f"no in-process command for {script!r}: mark the test @pytest.mark.process")


def _fast_path(script: str, args: list[str], input: str | None) -> subprocess.CompletedProcess[str] | None:
    """What ``nija.cli.entry.fast_path`` does for ``script``, with click's output capture;
    None when the command is not one it serves (click runs it)."""
    from nija.cli.entry import fast_path

    program = FAST_PATH_PROGRAMS.get(script)
    if program is None:
        return None
    with CliRunner().isolation(input=input) as (out, err, _):
        try:
            fast_path(program, args)
            return None
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # noqa: BLE001 - as a process would: exit 1, the traceback on stderr
            sys.stderr.write(traceback.format_exc())
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        return subprocess.CompletedProcess([script, *args], code, out.getvalue().decode(), err.getvalue().decode())


def run_in_process(
    monkeypatch: pytest.MonkeyPatch,
    script: str,
    *args: str,
    input: str | None = None,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Invoke ``script`` with ``args`` in this process, as a child process would see it:
    NIJA_* variables removed, ``cwd`` as the working directory, stdout and stderr apart,
    an uncaught exception as exit 1 with its traceback on stderr. Process-wide state a
    command may set (structlog's configuration, signal handlers, cwd, environment) is
    restored afterwards, so one invocation cannot leak into the next test."""
    from nija import emergency
    from nija.observability import logs

    command = script_command(script)
    saved_logging: dict[str, Any] = structlog.get_config()
    saved_handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    at_exit: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]] = []

    def register(func: Callable[..., object], *a: Any, **kw: Any) -> Callable[..., object]:
        at_exit.append((func, a, kw))
        return func

    with monkeypatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("NIJA_")]:
            patch.delenv(name)
        for name, value in {**CHILD_ENV, **(env or {})}.items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        patch.setattr(logs, "_configured", False)  # the command configures logging to its own stderr
        patch.setattr(emergency, "_raised", None)  # a process's own early kill, never the last test's
        patch.setattr(atexit, "register", register)  # run when the command returns, as at a process's exit
        try:
            served = _fast_path(script, list(args), input)  # as nija.cli.entry does, before click
            if served is not None:
                return served
            result = CliRunner().invoke(command, list(args), input=input, prog_name=script, catch_exceptions=True)
        finally:
            for func, a, kw in reversed(at_exit):
                func(*a, **kw)
            structlog.configure(**saved_logging)
            for sig, handler in saved_handlers.items():
                signal.signal(sig, handler)
    stderr = result.stderr
    if result.exc_info is not None and not issubclass(result.exc_info[0], SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess([script, *args], result.exit_code, result.stdout, stderr)


def run_as_process(
    script: str,
    *args: str,
    input: str | None = None,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run a root script or ``nija`` (``python -m nija``) in a real child process."""
    command = [sys.executable, "-m", "nija"] if script == "nija" else [sys.executable, str(REPO / script)]
    return subprocess.run(
        [*command, *args],
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(**(env or {})),
        timeout=timeout,
        check=False,
    )


@pytest.fixture(autouse=True)
def _scratch_working_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in a scratch working directory: what a command or a child process
    writes where it runs (the host's audit log beside a fleet store) is the test's own,
    never a file in the repository that every worker shares."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def run(data_dir: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run a root script (``safe_restore_trading.py``, ``emergency_kill_switch.py``,
    ``nija_control_center.py``) or ``nija`` against ``data_dir``: in this process, or in
    a real process when the test is marked ``process``. Returns a CompletedProcess."""
    as_process = request.node.get_closest_marker("process") is not None or os.environ.get(ALL_AS_PROCESSES) == "1"

    def runner(
        script: str,
        *args: str,
        input: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        if as_process:
            return run_as_process(script, *args, input=input, cwd=cwd or data_dir, env=env, timeout=timeout)
        # In process the suite's timeout (pytest-timeout) bounds a hang instead of ``timeout``.
        return run_in_process(monkeypatch, script, *args, input=input, cwd=cwd or data_dir, env=env)

    return runner


@pytest.fixture
def run_in(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Always in this process, whatever the marker (to compare the two ways)."""

    def runner(script: str, *args: str, cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        kwargs.pop("timeout", None)
        return run_in_process(monkeypatch, script, *args, cwd=cwd or data_dir, **kwargs)

    return runner


@pytest.fixture
def run_process(data_dir: Path) -> Run:
    """Always a real child process, whatever the marker (to compare the two ways)."""

    def runner(script: str, *args: str, cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run_as_process(script, *args, cwd=cwd or data_dir, **kwargs)

    return runner
