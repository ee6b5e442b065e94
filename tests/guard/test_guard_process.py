"""The example ccxt bot (examples/ccxt_bot.py), guarded, in its own process against the
local fake Kraken: the operator's CLI in another process stops it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import KEYS, OPERATOR, dry_run, go_live, kraken, ledger_orders, service
from tests.runtime.runtime_helpers import wait_for

BOT = """
import faulthandler, signal, sys, ccxt
faulthandler.register(signal.SIGUSR1)  # a bot that will not stop shows where it waits
from examples.ccxt_bot import main
exchange = ccxt.kraken({"apiKey": sys.argv[1], "secret": sys.argv[2], "enableRateLimit": False})
exchange.urls["api"] = {"public": sys.argv[3], "private": sys.argv[3]}
try:
    main(exchange, pause_s=0.05)
except KeyboardInterrupt:
    pass
"""


def start_bot(fake: FakeKraken, data_dir: Path) -> subprocess.Popen[str]:
    env = cli_env(NIJA_DATA_DIR=str(data_dir))
    env["PYTHONPATH"] = f"{REPO}:{env['PYTHONPATH']}"
    return subprocess.Popen(
        [sys.executable, "-c", BOT, KEYS["apiKey"], KEYS["secret"], fake.url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def reading(bot: subprocess.Popen[str]) -> list[str]:
    """The bot's lines as it prints them: a pipe nobody reads fills up and blocks the bot."""
    printed: list[str] = []

    def drain() -> None:
        assert bot.stdout is not None
        for line in bot.stdout:
            printed.append(line)

    threading.Thread(target=drain, daemon=True).start()
    return printed


def stop(bot: subprocess.Popen[str]) -> tuple[str, str]:
    if bot.poll() is None:
        bot.send_signal(signal.SIGINT)
    try:
        return bot.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        bot.send_signal(signal.SIGUSR1)  # every thread's stack, to stderr
        try:
            _, err = bot.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            bot.kill()
            _, err = bot.communicate()
        pytest.fail(f"the guarded bot did not stop within 60 s of SIGINT; its threads:\n{err[-20000:]}")


def kill_from_cli(data_dir: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "emergency_kill_switch.py"), "activate", "--data-dir", str(data_dir), "stop"],
        env=cli_env(),
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_a_live_guarded_bot_is_stopped_by_the_kill_switch_cli(fake: FakeKraken, data_dir: Path) -> None:
    dry_run(data_dir)
    bot = start_bot(fake, data_dir)
    printed = reading(bot)
    try:
        wait_for(lambda: ledger_orders(data_dir) != [], timeout=60, what="a paper order while in DRY_RUN")
        assert fake.calls("AddOrder") == []
        wait_for(lambda: service(data_dir).status().bot_alive, timeout=30, what="the guarded bot's heartbeat")
        go_live(data_dir)  # the operator confirms live for the running bot
        wait_for(lambda: len(fake.open_orders()) == 1, timeout=30, what="a live order at the exchange")
        (sent,) = fake.calls("AddOrder")
        assert sent["cl_ord_id"].startswith("nj")
        assert [s for _, _, s in ledger_orders(data_dir)] == ["cancelled"]  # leaving DRY_RUN cancelled it
        kill_from_cli(data_dir)
        wait_for(lambda: fake.open_orders() == {}, timeout=20, what="the live order cancelled")
        placed = len(fake.calls("AddOrder"))
        wait_for(
            lambda: any("KILL_SWITCH_ACTIVE" in line for line in printed),
            timeout=20,
            what="the bot told its order was refused",
        )
        assert len(fake.calls("AddOrder")) == placed
        assert bot.poll() is None  # the bot keeps running, refused
    finally:
        _, err = stop(bot)
    assert "Traceback" not in err, err
    assert not service(data_dir).status().bot_alive  # the stopped heartbeat was written


def test_a_restarted_guarded_bot_never_resumes_live(fake: FakeKraken, data_dir: Path) -> None:
    import nija
    from nija.guarded import OrderRefused

    dry_run(data_dir)
    bot = start_bot(fake, data_dir)
    try:
        wait_for(lambda: service(data_dir).status().bot_alive, timeout=60, what="the guarded bot's heartbeat")
        go_live(data_dir)
        wait_for(lambda: len(fake.open_orders()) == 1, timeout=30, what="a live order")
    finally:
        bot.kill()  # a crash: no clean stop, the state stays LIVE_ACTIVE
        bot.communicate(timeout=60)
    assert service(data_dir).snapshot().state == "LIVE_ACTIVE"
    (left_behind,) = fake.open_orders()
    foreign = kraken(fake).create_limit_buy_order("BTC/USDT", 0.02, 42_000.0)["id"]  # not this bot's
    sent = len(fake.calls("AddOrder"))
    exchange = nija.guard(kraken(fake), data_dir=data_dir)  # the restart: a new run takes the claim over
    try:
        assert service(data_dir).snapshot().state == "OFF"
        last = service(data_dir).history()[0][-1]
        assert (last.from_state, last.to_state, last.source) == ("LIVE_ACTIVE", "OFF", "guard")
        codes = [a.code for a in exchange.nija.alerts]
        assert codes[:3] == ["RUN_CLAIM_TAKEN_OVER", "RESTART_RULE", "ADOPTED_OWN_ORDERS"]
        # The crashed run's order is recognised by its client id and cancelled (OFF); the other stays.
        wait_for(lambda: left_behind not in fake.open_orders(), timeout=30, what="the crashed run's order cancelled")
        assert set(fake.open_orders()) == {foreign}
        with pytest.raises(OrderRefused, match="STATE_OFF"):
            exchange.create_limit_buy_order("BTC/USDT", 0.01, 42_000.0)
    finally:
        exchange.close()
    assert len(fake.calls("AddOrder")) == sent


def test_a_copied_directory_at_the_same_path_never_cancels_the_originals_orders(
    fake: FakeKraken, data_dir: Path
) -> None:
    """Same host, same path, same store location (a container's volume mounted at /data, or
    a copy put where the original was): the copy is another bot, whatever its path says."""
    import nija
    from nija.guarded.core import GuardCore

    dry_run(data_dir)
    bot = start_bot(fake, data_dir)
    try:
        wait_for(lambda: service(data_dir).status().bot_alive, timeout=60, what="the guarded bot's heartbeat")
        go_live(data_dir)
        wait_for(lambda: len(fake.open_orders()) == 1, timeout=30, what="a live order")
    finally:
        bot.kill()  # its order stays open at the exchange
        bot.communicate(timeout=60)
    (originals,) = fake.open_orders()
    original = data_dir.rename(data_dir.with_name("original"))
    shutil.copytree(original, data_dir, ignore=shutil.ignore_patterns("*.lock"))
    exchange = nija.guard(kraken(fake), data_dir=data_dir)
    try:
        core: GuardCore = exchange.nija
        codes = [a.code for a in core.alerts]
        assert "DIRECTORY_COPIED" in codes
        assert "ADOPTED_OWN_ORDERS" not in codes
        service(data_dir).activate_kill("drill on the copy", OPERATOR)
        wait_for(lambda: core.reaction.kill.complete, timeout=30, what="the copy's kill complete")
        assert fake.calls("CancelOrder") == []
        assert originals in fake.open_orders()
        copy_prefix = core.client_prefix
    finally:
        exchange.close()
    original_guard = nija.guard(kraken(fake), data_dir=original)  # the original, moved: still itself
    try:
        assert original_guard.nija.client_prefix != copy_prefix
        assert "ADOPTED_OWN_ORDERS" in [a.code for a in original_guard.nija.alerts]
    finally:
        original_guard.close()
