"""A kill when the process has no file descriptor left (a leaking bot, a failing mount):
the record cannot be written, and nothing the kill path still has to import can be read.
The bot must enforce its automatic kill itself, and a command's activation must still
say whether the kill is in force. Each case runs in its own process: the limit is the
process's own (RLIMIT_NOFILE), lowered once everything it needs to start is loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import cli_env

pytestmark = pytest.mark.process

EXHAUST = """
import os, resource
def exhaust():
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    held = []
    try:
        while True:
            held.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        pass
    return held
def release(held):
    for fd in held:
        os.close(fd)
"""


def run_script(body: str, data_dir: Path) -> dict[str, object]:
    script = EXHAUST + textwrap.dedent(body)
    result = subprocess.run(
        [sys.executable, "-c", script, str(data_dir)], capture_output=True, text=True, env=cli_env(), timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_a_bots_automatic_kill_is_enforced_when_no_descriptor_is_left_and_recorded_after(data_dir: Path) -> None:
    said = run_script(
        """
        import json, sys
        from pathlib import Path
        from nija.assembly import build_service
        from nija.config import NijaConfig
        from nija.domain.transitions import Who
        from nija.runtime.engine import Bot
        from nija.runtime.risk import Trigger
        data_dir = Path(sys.argv[1])
        service = build_service(data_dir, config=NijaConfig())
        service.restore(Who("alice@host", "cli"))
        bot = Bot(service, NijaConfig(), data_dir, actor="test")
        from nija.domain.errors import StorageProblem
        held = exhaust()
        try:
            bot._trip(Trigger("DAILY_LOSS", "daily loss 1200 >= 1000"))
            outcome = "returned"
        except StorageProblem:  # the reaction's own writes (the bot's report) cannot be made either
            outcome = "returned"
        except BaseException as exc:
            outcome = f"raised {type(exc).__name__}: {exc}"
        enforced = bot.kill_record.unrecorded is not None
        release(held)
        bot.kill_record.record_unrecorded()
        print(json.dumps({"outcome": outcome, "enforced": enforced, "recorded": service.status().kill_active}))
        """,
        data_dir,
    )
    # Before: the record's failure escaped as a bare OSError (a late import could not be read)
    # and the kill was neither enforced by the bot nor alerted.
    assert said == {"outcome": "returned", "enforced": True, "recorded": True}


def test_an_activation_with_no_descriptor_left_says_the_kill_is_not_in_force(data_dir: Path) -> None:
    said = run_script(
        """
        import json, sys
        from pathlib import Path
        import nija.kill_channel  # as in a bot, the direct channel is loaded
        from nija.assembly import build_service
        from nija.domain.errors import NijaError
        from nija.domain.transitions import Who
        service = build_service(Path(sys.argv[1]))
        service.status()
        held = exhaust()
        try:
            service.activate_kill("drill", Who("alice@host", "cli"))
            said = {"outcome": "returned"}
        except NijaError as exc:
            said = {"outcome": "refused", "code": str(exc.code), "message": exc.message}
        except BaseException as exc:
            said = {"outcome": f"raised {type(exc).__name__}: {exc}"}
        release(held)
        print(json.dumps(said))
        """,
        data_dir,
    )
    assert said["outcome"] == "refused", said
    assert said["code"] == "KILL_NOT_IN_FORCE"
    assert "THE KILL IS NOT IN FORCE" in str(said["message"])
