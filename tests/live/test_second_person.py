"""The second-person rule compares principals the system vouches for: one OS account
cannot both request and confirm whatever ``$USER`` says; another OS account can."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nija.service import system_clock
from nija.store.json_files import JsonFileStore
from nija.testing import HeartbeatBot
from tests.conftest import REPO, cli_env
from tests.live.bot_process import CREDENTIALS, PHRASE, nija

SECOND = "nija-second-person"


def second_account() -> pwd.struct_passwd:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("creating a second OS account needs root and setpriv; the API-token form is tested in tests/api")
    try:
        return pwd.getpwnam(SECOND)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SECOND], check=True, timeout=30)
        return pwd.getpwnam(SECOND)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A data directory both accounts can write (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="nija-second-person-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_one_os_account_cannot_request_and_confirm_whatever_user_says_and_another_can(shared_dir: Path) -> None:
    account = second_account()
    (shared_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\nrequire_second_person = true\n")
    (shared_dir / "nija.toml").chmod(0o644)
    assert nija(shared_dir, "restore", "--yes").returncode == 0
    bot = HeartbeatBot(JsonFileStore(shared_dir), system_clock)
    requested = nija(shared_dir, "live", "request", "--json", env=CREDENTIALS)
    assert requested.returncode == 0, requested.stderr
    code = json.loads(requested.stdout)["code"]
    bot.step()  # acknowledged by the running bot

    renamed = nija(shared_dir, "live", "confirm", code, "--phrase", PHRASE, env={"USER": "bob", "LOGNAME": "bob"})
    assert renamed.returncode == 3, renamed.stderr
    assert "second person" in renamed.stderr
    assert json.loads(nija(shared_dir, "status", "--json").stdout)["state"] == "LIVE_PENDING_CONFIRMATION"

    for record in shared_dir.glob(".nija_*.json"):
        record.chmod(0o666)  # a shared operators' data directory
    other = subprocess.run(
        [
            "setpriv",
            f"--reuid={account.pw_uid}",
            f"--regid={account.pw_gid}",
            "--clear-groups",
            sys.executable,
            "-m",
            "nija",
            "live",
            "confirm",
            code,
            "--phrase",
            PHRASE,
            "--data-dir",
            str(shared_dir),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=cli_env(HOME="/tmp", USER="root", LOGNAME="root"),  # the environment claims root: ignored
        timeout=60,
        check=False,
    )
    assert other.returncode == 0, other.stderr
    status = json.loads(nija(shared_dir, "status", "--json").stdout)
    assert status["state"] == "LIVE_ACTIVE"
    assert status["recent_history"][-1]["actor"].startswith(f"{SECOND}@")
    assert bot.step().allowed  # and the running bot verifies it
