"""The direct kill channel (nija.kill_channel) reaches every bot of a directory at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from nija.domain.transitions import Who
from nija.kill_channel import KillListener, KillMessage, listening, tell_bots
from tests.conftest import cli_env
from tests.runtime.test_kill_without_descriptors import EXHAUST

ALICE = Who("alice@host", "cli")


def test_a_bot_slow_to_answer_delays_no_other_bots_kill(tmp_path: Path) -> None:
    """A bot that answers only once it has cancelled (here: once the other bot has heard
    the kill) must not hold the kill back from the other bot: they are told at once."""
    heard = threading.Event()

    def on_kill(message: KillMessage) -> dict[str, object]:
        heard.set()
        return {"pid": os.getpid(), "stopped": True, "complete": True}

    fast = KillListener(tmp_path, on_kill)
    assert fast.name is not None
    slow_name = fast.name.rsplit(":", 1)[0] + ":1"  # pid 1: named, so told, before the fast one
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.bind("\0" + slow_name)
    slow.listen(1)

    def serve_slow() -> None:
        conn, _ = slow.accept()
        with conn:
            conn.recv(8192)
            answered_after_the_other = heard.wait(30)
            conn.sendall(json.dumps({"pid": 1, "stopped": answered_after_the_other}).encode() + b"\n")

    server = threading.Thread(target=serve_slow, daemon=True)
    server.start()
    fast.start()
    try:
        assert listening(tmp_path) == (slow_name, fast.name)
        assert tell_bots(tmp_path, "drill", ALICE, datetime.now(UTC)) == (1, os.getpid())
    finally:
        fast.stop()
        server.join(timeout=30)
        slow.close()


LISTENER = """
import os, sys
from pathlib import Path
from nija.kill_channel import KillListener
listener = KillListener(Path(sys.argv[1]), lambda message: {"pid": os.getpid(), "stopped": True, "complete": True})
listener.start()
print("listening", flush=True)
sys.stdin.read()
"""

# The sender has one file descriptor left (a process at its limit, when kills matter most).
STARVED_SENDER = (
    EXHAUST
    + """
import json, os, sys
from datetime import UTC, datetime
from pathlib import Path
from nija.domain.transitions import Who
from nija.kill_channel import tell_bots
held = exhaust()
os.close(held.pop())
told = tell_bots(Path(sys.argv[1]), "drill", Who("alice@host", "cli"), datetime.now(UTC))
print(json.dumps(sorted(told)), flush=True)
"""
)


def test_every_bot_is_told_when_the_sender_has_one_descriptor_left(tmp_path: Path) -> None:
    bots = [
        subprocess.Popen(
            [sys.executable, "-c", LISTENER, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for _ in range(3)
    ]
    try:
        for bot in bots:
            assert bot.stdout is not None
            assert bot.stdout.readline().strip() == "listening"
        sent = subprocess.run(
            [sys.executable, "-c", STARVED_SENDER, str(tmp_path)],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=120,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout) == sorted(bot.pid for bot in bots), sent.stderr
    finally:
        for bot in bots:
            bot.communicate("", timeout=30)
