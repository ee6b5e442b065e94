"""The original's automatic triggers, with an injected clock (pure logic, no kill raised)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from nija.compat.auto_trigger import KillSwitchAutoTrigger
from nija.testing import FakeClock

MONDAY = datetime(2026, 2, 16, 9, 0, tzinfo=UTC)


def trigger(**settings: float) -> tuple[KillSwitchAutoTrigger, FakeClock]:
    clock = FakeClock(MONDAY)
    return KillSwitchAutoTrigger(**settings, clock=clock), clock  # type: ignore[arg-type]


def test_the_first_reading_of_a_day_is_its_baseline_and_a_3_percent_loss_stops() -> None:
    t, clock = trigger()
    assert t.check_daily_loss(1000.0) is None
    assert t.check_daily_loss(971.0) is None
    reason = t.check_daily_loss(970.0)
    assert reason is not None
    assert reason.startswith("Daily loss limit exceeded: -3.00%")
    clock.advance(days=1)
    assert t.check_daily_loss(900.0) is None  # a new day: new baseline
    assert t.check_daily_loss(880.0) is None


def test_weekly_drawdown_halves_risk_at_8_percent_and_stops_at_10() -> None:
    t, clock = trigger()
    assert t.check_weekly_drawdown(1000.0) is None
    assert t.get_weekly_risk_multiplier() == 1.0
    assert t.check_weekly_drawdown(915.0) is None
    assert t.get_weekly_risk_multiplier() == 0.5
    assert t.check_weekly_drawdown(1030.0) is None  # +3 %: too close to breakeven to clear
    assert t.get_weekly_risk_multiplier() == 0.5
    assert t.check_weekly_drawdown(1050.0) is None  # +5 %: recovered well above breakeven
    assert t.get_weekly_risk_multiplier() == 1.0
    reason = t.check_weekly_drawdown(900.0)
    assert reason is not None
    assert reason.startswith("Weekly loss limit exceeded: -10.00%")
    clock.advance(days=7)
    assert t.check_weekly_drawdown(850.0) is None  # a new ISO week


def test_consecutive_losses_and_api_errors_stop_and_a_success_resets() -> None:
    t, _ = trigger(max_consecutive_losses=3, max_consecutive_api_errors=2)
    assert t.record_trade_result(False) is None
    assert t.record_trade_result(True) is None
    assert t.record_trade_result(False) is None
    assert t.record_trade_result(False) is None
    assert t.record_trade_result(False) is not None
    assert t.record_api_error() is None
    t.record_api_success()
    assert t.record_api_error() is None
    assert t.record_api_error() is not None


def test_an_unexpected_balance_jump_either_way_stops() -> None:
    t, _ = trigger()
    assert t.check_balance_delta(1000.0) is None
    assert t.check_balance_delta(1400.0) is None
    reason = t.check_balance_delta(2200.0)
    assert reason is not None
    assert "Unexpected balance delta: +57.14%" in reason
    assert t.check_balance_delta(600.0) is not None  # baseline stayed at 1400 after the jump


def test_a_balance_that_is_not_a_number_stops_instead_of_disabling_the_checks() -> None:
    t, _ = trigger()
    assert t.check_all_triggers(1000.0) is None
    for bad in (math.nan, math.inf, -math.inf):
        reason = t.check_all_triggers(bad)
        assert reason is not None
        assert "not a finite number" in reason


def test_disabled_triggers_never_fire() -> None:
    t, _ = trigger(enable_auto_trigger=False)
    assert t.check_all_triggers(1000.0) is None
    assert t.check_all_triggers(1.0, last_trade_result=False) is None
    assert t.auto_trigger_if_needed(math.nan) is False
