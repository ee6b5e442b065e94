"""The original bot's automatic kill switch triggers (``KillSwitchAutoTrigger``): daily
loss, weekly drawdown (halve risk, then stop), consecutive losses, API errors and an
unexpected balance jump. A trigger raises NIJA's latched kill (source AUTO_TRIGGER).

One difference (docs/compat.md): a balance that is not a finite number triggers the kill
instead of silently comparing false, so a broken reading never disables a control."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime

logger = logging.getLogger("nija.kill_switch")

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _pct(part: float, whole: float) -> float:
    return part / whole * 100


class KillSwitchAutoTrigger:
    HARD_DAILY_LOSS_PCT: float = 3.0
    HARD_WEEKLY_HALF_PCT: float = 8.0
    HARD_WEEKLY_STOP_PCT: float = 10.0

    def __init__(
        self,
        max_daily_loss_pct: float = 3.0,
        max_consecutive_losses: int = 5,
        max_consecutive_api_errors: int = 10,
        max_balance_delta_pct: float = 50.0,
        enable_auto_trigger: bool = True,
        *,
        clock: Clock = _utc_now,
    ) -> None:
        self.max_daily_loss_pct = max_daily_loss_pct
        self.max_weekly_half_pct = self.HARD_WEEKLY_HALF_PCT
        self.max_weekly_stop_pct = self.HARD_WEEKLY_STOP_PCT
        self.max_consecutive_losses = max_consecutive_losses
        self.max_consecutive_api_errors = max_consecutive_api_errors
        self.max_balance_delta_pct = max_balance_delta_pct
        self.enable_auto_trigger = enable_auto_trigger
        self._clock = clock
        self._lock = threading.Lock()
        self.reset_metrics()

    def reset_metrics(self) -> None:
        self._day: tuple[datetime, float] | None = None  # (start, starting balance)
        self._week: tuple[datetime, float] | None = None
        self._weekly_risk_halved = False
        self._consecutive_losses = 0
        self._consecutive_api_errors = 0
        self._last_known_balance: float | None = None

    # -- balance checks --------------------------------------------------------------
    def check_daily_loss(self, current_balance: float) -> str | None:
        """The first reading of a UTC day is its baseline; a loss of max_daily_loss_pct stops."""
        if not math.isfinite(current_balance):
            return _unreadable(current_balance)
        with self._lock:
            now = self._clock()
            if self._day is None or now.date() > self._day[0].date() or self._day[1] <= 0:
                self._day = (now, current_balance)
                return None
            start = self._day[1]
            change = _pct(current_balance - start, start)
            if change <= -self.max_daily_loss_pct:
                return (
                    f"Daily loss limit exceeded: {change:.2f}% (max: -{self.max_daily_loss_pct:.0f}%) - "
                    f"Lost ${start - current_balance:.2f} of ${start:.2f}"
                )
            return None

    def check_weekly_drawdown(self, current_balance: float) -> str | None:
        """The first reading of an ISO week is its baseline; -8 % halves risk, -10 % stops."""
        if not math.isfinite(current_balance):
            return _unreadable(current_balance)
        with self._lock:
            now = self._clock()
            if self._week is None or now.isocalendar()[:2] > self._week[0].isocalendar()[:2] or self._week[1] <= 0:
                self._week = (now, current_balance)
                self._weekly_risk_halved = False
                return None
            start = self._week[1]
            change = _pct(current_balance - start, start)
            if change > 0:
                # Clear the halving only well above breakeven, so it does not flicker.
                if self._weekly_risk_halved and change >= self.max_weekly_half_pct / 2:
                    self._weekly_risk_halved = False
                return None
            loss = -change
            if loss >= self.max_weekly_stop_pct:
                return (
                    f"Weekly loss limit exceeded: -{loss:.2f}% (hard stop: -{self.max_weekly_stop_pct:.0f}%) - "
                    f"Lost ${start - current_balance:.2f} of ${start:.2f}"
                )
            if loss >= self.max_weekly_half_pct and not self._weekly_risk_halved:
                self._weekly_risk_halved = True
                logger.warning("Weekly drawdown -%.2f%%: risk cut in half for the rest of the week", loss)
            return None

    def get_weekly_risk_multiplier(self) -> float:
        return 0.5 if self._weekly_risk_halved else 1.0

    def check_balance_delta(self, current_balance: float) -> str | None:
        """A jump of more than max_balance_delta_pct either way since the last reading stops."""
        if not math.isfinite(current_balance):
            return _unreadable(current_balance)
        with self._lock:
            last = self._last_known_balance
            if last is None or last <= 0:
                self._last_known_balance = current_balance
                return None
            change = _pct(current_balance - last, last)
            if abs(change) > self.max_balance_delta_pct:
                return (
                    f"Unexpected balance delta: {change:+.2f}% (${last:.2f} → ${current_balance:.2f}). "
                    "Possible hack, API error, or unauthorized access."
                )
            self._last_known_balance = current_balance
            return None

    # -- counters --------------------------------------------------------------------
    def record_trade_result(self, is_winner: bool) -> str | None:
        with self._lock:
            if is_winner:
                self._consecutive_losses = 0
                return None
            self._consecutive_losses += 1
            if self._consecutive_losses >= self.max_consecutive_losses:
                return (
                    f"Consecutive loss limit exceeded: {self._consecutive_losses} losses in a row "
                    f"(max: {self.max_consecutive_losses})"
                )
            return None

    def record_api_error(self) -> str | None:
        with self._lock:
            self._consecutive_api_errors += 1
            if self._consecutive_api_errors >= self.max_consecutive_api_errors:
                return (
                    f"API instability detected: {self._consecutive_api_errors} consecutive errors "
                    f"(max: {self.max_consecutive_api_errors})"
                )
            return None

    def record_api_success(self) -> None:
        with self._lock:
            self._consecutive_api_errors = 0

    # -- together --------------------------------------------------------------------
    def check_all_triggers(self, current_balance: float, last_trade_result: bool | None = None) -> str | None:
        """The first reason found (daily, weekly, balance jump, losses), or None."""
        if not self.enable_auto_trigger:
            return None
        for check in (self.check_daily_loss, self.check_weekly_drawdown, self.check_balance_delta):
            reason = check(current_balance)
            if reason:
                return reason
        if last_trade_result is not None:
            return self.record_trade_result(last_trade_result)
        return None

    def auto_trigger_if_needed(self, current_balance: float, last_trade_result: bool | None = None) -> bool:
        """Raise NIJA's kill (source AUTO_TRIGGER) if a trigger fires; True if it did."""
        reason = self.check_all_triggers(current_balance, last_trade_result)
        if not reason:
            return False
        from nija.compat.kill_switch import get_kill_switch

        logger.critical("Automatic kill switch trigger: %s", reason)
        get_kill_switch().activate(reason, "AUTO_TRIGGER")
        return True


def _unreadable(balance: float) -> str:
    return f"Balance reading is not a finite number ({balance!r}): stopping rather than trading blind"


_auto_trigger: KillSwitchAutoTrigger | None = None
_auto_trigger_lock = threading.Lock()


def get_auto_trigger(
    max_daily_loss_pct: float = 3.0,
    max_consecutive_losses: int = 5,
    enable_auto_trigger: bool = True,
) -> KillSwitchAutoTrigger:
    """The process's auto-trigger (singleton: the first call's settings win, as the original)."""
    global _auto_trigger
    with _auto_trigger_lock:
        if _auto_trigger is None:
            _auto_trigger = KillSwitchAutoTrigger(
                max_daily_loss_pct=max_daily_loss_pct,
                max_consecutive_losses=max_consecutive_losses,
                enable_auto_trigger=enable_auto_trigger,
            )
        return _auto_trigger
