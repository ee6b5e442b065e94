"""A kill that cannot be written to disk reaches a guarded bot directly, as it reaches
``nija run``: ``kill activate`` on a read-only view of the data directory tells the
guarded bot (this test's process), which cancels its own live order before answering,
refuses every order from then on, and records the kill once it can write."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import nija
from nija.assembly import build_service
from nija.guarded import OrderRefused
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import dry_run, go_live, kraken
from tests.runtime.runtime_helpers import wait_for
from tests.runtime.test_kill_without_disk import (  # noqa: F401
    TMPFS_KILL_CHANNEL,
    _mount,
    _mount_point,
    bot_fs,
    kill_activate,
)

SYMBOL = "BTC/USDT"
pytestmark = pytest.mark.slow


@TMPFS_KILL_CHANNEL
def test_a_kill_the_disk_cannot_take_stops_a_live_guarded_bot(bot_fs: Path, tmp_path: Path, fake: FakeKraken) -> None:  # noqa: F811
    dry_run(bot_fs)
    exchange = nija.guard(kraken(fake), data_dir=bot_fs)
    view = _mount_point(tmp_path, "ro")
    try:
        go_live(bot_fs)
        order = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
        assert set(fake.open_orders()) == {order["id"]}
        assert _mount("--bind", str(bot_fs), str(view))
        assert _mount("-o", "remount,bind,ro", str(view))
        result = kill_activate(view, "disk is read-only")
        assert result.returncode == 4, result.stdout + result.stderr
        # The guard records the kill it was sent at once (its own path is writable), so the
        # CLI may find it on disk before it words its message: in force either way.
        assert f"Trading is stopped in pid {os.getpid()}" in result.stderr or "kill switch IS ACTIVE" in result.stderr
        assert "Traceback" not in result.stderr
        # Cancelled before the answer, one by one (never the account-wide cancel-all).
        assert fake.open_orders() == {}
        assert [c["txid"] for c in fake.calls("CancelOrder")] == [order["id"]]
        assert fake.calls("CancelAll") == []
        with pytest.raises(OrderRefused, match="KILL_SWITCH_ACTIVE"):
            exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
        # Only the guard, told directly, can have written this kill (the CLI could not).
        wait_for(lambda: bool(build_service(bot_fs).history()[1]), timeout=15, what="the kill recorded")
        assert build_service(bot_fs).history()[1][-1].reason == "disk is read-only"
        assert build_service(bot_fs).snapshot().kill_active
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
        exchange.close()
