"""Run claims held and tried by other processes (nija.runtime.run_claim), for the tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import cli_env

_HOLD = (
    "import sys; from datetime import UTC, datetime; from pathlib import Path\n"
    "from nija.runtime.run_claim import hold_run_claim\n"
    "hold_run_claim(Path(sys.argv[1]), bot=sys.argv[2] or None, heartbeat=None, now=datetime.now(UTC))\n"
)
# How NIJA versions before one bot per directory claimed a fleet scope's run.
_HOLD_PER_SCOPE = (
    "import fcntl, json, os, sys\n"
    "fd = os.open(os.path.join(sys.argv[1], f'.nija_run.{sys.argv[2]}.lock'), os.O_RDWR | os.O_CREAT, 0o600)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "os.write(fd, json.dumps({'pid': os.getpid(), 'host': 'old'}).encode())\n"
)


@contextmanager
def claim_held(directory: Path, bot: str, *, per_scope: bool = False) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the run of ``directory`` for ``bot`` until the block ends."""
    script = (_HOLD_PER_SCOPE if per_scope else _HOLD) + "print('holding', flush=True); sys.stdin.read()"
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(directory), bot],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.communicate("", timeout=30)


def try_claim(directory: Path, bot: str) -> subprocess.CompletedProcess[str]:
    """A new process claims the run of ``directory`` for ``bot``, and exits."""
    return subprocess.run(
        [sys.executable, "-c", _HOLD, str(directory), bot],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
