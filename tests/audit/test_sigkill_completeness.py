"""The SIGKILL harness (benchmarks/audit_sigkill.py), small: real writer processes killed at
random instants; afterwards every committed change has exactly one audit record."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, cli_env

pytestmark = pytest.mark.slow


def test_writers_killed_at_random_instants_leave_no_committed_change_without_its_record() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "audit_sigkill.py"), "--trials", "60", "--seed", "7", "--json"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["trials"] == figures["kills"] == 60
    assert figures["changes_committed"] > 60  # the writers really worked before being killed
    assert figures["missing_after_next_process"] == 0
    assert figures["duplicate_records"] == 0
    assert figures["reused_sequence_numbers"] == 0
    assert figures["broken_chains"] == 0
