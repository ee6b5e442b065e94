"""SIGTERM and SIGINT stop a long-running command whenever they come (nija.cli.signals)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nija
from tests.conftest import cli_env

# The signal comes while the main thread holds the stop event's lock, as it does for a
# moment each time it enters stop.wait(): raise_signal runs the handler before returning.
AT_THE_WORST_MOMENT = """
import signal, sys, threading
from nija.cli.signals import stop_on_signals

stop = threading.Event()
stop_on_signals(stop)
with stop._cond:
    signal.raise_signal(signal.{name})
print("handled", flush=True)
print("stopped" if stop.wait(30) else "never stopped", flush=True)
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_that_comes_while_the_event_is_locked_still_stops(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", AT_THE_WORST_MOMENT.format(name=name)],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=30,  # a handler that set the event itself waits for its own lock forever
        check=False,
    )
    assert (done.returncode, done.stdout.split()) == (0, ["handled", "stopped"]), done.stderr


AGAIN_IN_ONE_PROCESS = """
import signal, threading
from nija.cli.signals import stop_on_signals

first, second = threading.Event(), threading.Event()
stop_on_signals(first)
stop_on_signals(second)  # a second command in the same process (the tests run them so)
signal.raise_signal(signal.SIGTERM)
relays = [t for t in threading.enumerate() if t.name == "nija-stop-signal"]
print(second.wait(30), first.is_set(), len(relays), flush=True)
"""


def test_the_signal_stops_the_latest_command_of_the_process_through_one_relay() -> None:
    done = subprocess.run(
        [sys.executable, "-c", AGAIN_IN_ONE_PROCESS],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout.split()) == (0, ["True", "False", "1"]), done.stderr


def test_no_command_installs_a_signal_handler_of_its_own() -> None:
    """The relay is the one way: a handler that sets an event or takes a lock can hang."""
    package = Path(nija.__file__).parent
    installers = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Attribute) or node.attr not in {"signal", "set_wakeup_fd"}:
                continue
            if isinstance(node.value, ast.Name) and node.value.id == "signal":
                installers.append(f"{path.relative_to(package)}:{node.lineno}")
    assert installers, "the relay installs the handlers"
    assert {site.split(":")[0] for site in installers} == {"cli/signals.py"}, installers
