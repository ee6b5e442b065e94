"""The outage record and the hold on resting orders (``nija.runtime.outage``), on
injected clocks; ``bot.outage_cancel_after_s`` validated like every setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nija.config import load_config
from nija.domain.errors import UsageProblem
from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.outage import OutageTracker
from tests.runtime.test_reaction import DRY_RUN, KILLED, setup

STALE = Permission(False, None, "VIEW_STALE", "the fleet database view is not confirmed fresh within 2 s")


class Clocks:
    def __init__(self) -> None:
        self.t = 100.0

    def wall(self) -> datetime:
        return datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=self.t)

    def mono(self) -> float:
        return self.t


def test_an_outage_runs_from_the_first_stale_answer_to_the_first_confirmed_one() -> None:
    clocks = Clocks()
    tracker = OutageTracker(30, wall=clocks.wall, mono=clocks.mono)
    assert tracker.observe(STALE, denials=0) is None  # still starting: not an outage
    assert tracker.observe(DRY_RUN, denials=0) is None
    clocks.t = 110
    ongoing = tracker.observe(STALE, denials=4)
    assert ongoing is not None
    clocks.t = 139.9
    assert tracker.keep_orders(ongoing)
    clocks.t = 140
    assert not tracker.keep_orders(ongoing)
    tracker.cancelled(ongoing, 2)
    clocks.t = 150
    tracker.observe(STALE, denials=9)
    assert tracker.observe(DRY_RUN, denials=11) is None
    (record,) = tracker.as_dicts()
    assert record["duration_s"] == 40.0
    assert record["orders_denied"] == 7
    assert record["orders_cancelled"] == 2
    assert record["start"] == "2026-12-01T00:01:50+00:00"
    assert record["orders_cancelled_at"] == "2026-12-01T00:02:20+00:00"  # 30 s in
    assert record["end"] == "2026-12-01T00:02:30+00:00"
    assert tracker.current is None


def test_resting_orders_wait_through_a_short_outage_but_never_through_a_kill(tmp_path: Path) -> None:
    paper, gate, reaction, _ = setup(tmp_path)
    assert gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 90.0)).accepted
    reaction(STALE, keep_orders=True)
    assert len(paper.open_orders()) == 1
    assert reaction.mode is None  # nothing new is routed meanwhile
    reaction(KILLED, keep_orders=True)
    assert paper.open_orders() == ()
    assert reaction.kill.complete


def test_a_stale_answer_without_the_hold_cancels_at_once(tmp_path: Path) -> None:
    paper, gate, reaction, _ = setup(tmp_path)
    assert gate.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 1.0, 90.0)).accepted
    reaction(STALE)
    assert paper.open_orders() == ()
    assert reaction.mode is not Mode.SIMULATED


@pytest.mark.parametrize("value", ["-1", "nan", "inf", '"30"', "true", "3601"])
def test_a_bad_outage_cancel_after_is_refused_by_name(value: str, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(f"[bot]\noutage_cancel_after_s = {value}\n")
    with pytest.raises(UsageProblem) as refused:
        load_config(data_dir)
    assert "bot.outage_cancel_after_s" in refused.value.message


def test_outage_cancel_after_defaults_to_30_s_and_accepts_0(data_dir: Path) -> None:
    assert load_config(data_dir).bot.outage_cancel_after_s == 30
    (data_dir / "nija.toml").write_text("[bot]\noutage_cancel_after_s = 0\n")
    assert load_config(data_dir).bot.outage_cancel_after_s == 0
