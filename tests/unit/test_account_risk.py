"""The account-wide rule (pure): limits judged on the sum of the bots on one account,
and a figure that cannot be read is a breach, never a zero."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nija.config import load_config
from nija.domain.account_risk import AccountFigures, AccountLimits, AccountRiskCode, BotFigures, judge
from nija.domain.errors import UsageProblem


def figures(limits: AccountLimits, *bots: BotFigures) -> AccountFigures:
    loss = sum(b.daily_loss for b in bots if b.daily_loss is not None and math.isfinite(b.daily_loss))
    exposure = sum(b.gross_exposure for b in bots if b.gross_exposure is not None and math.isfinite(b.gross_exposure))
    return AccountFigures("main-kraken", "2026-12-01", limits, bots, loss, exposure)


def test_no_limits_set_judges_nothing() -> None:
    assert judge(figures(AccountLimits(), BotFigures("a", None, None))) is None


def test_the_sum_reaching_the_limit_breaches_and_names_every_bot_and_the_limit() -> None:
    breach = judge(figures(AccountLimits(daily_loss=1000), BotFigures("a", 400, 0), BotFigures("b", 600, 0)))
    assert breach is not None
    assert breach.code is AccountRiskCode.ACCOUNT_DAILY_LOSS
    assert "1,000.00 reached the account limit 1,000.00" in breach.reason
    assert "a 400.00" in breach.reason
    assert "b 600.00" in breach.reason
    assert breach.details["bot.b"] == "600.00"


@pytest.mark.parametrize("bad", [None, math.nan, math.inf])
def test_an_unreadable_figure_is_a_breach_not_a_zero(bad: float | None) -> None:
    breach = judge(figures(AccountLimits(daily_loss=1000), BotFigures("a", 1, 0), BotFigures("b", bad, 0)))
    assert breach is not None
    assert breach.code is AccountRiskCode.ACCOUNT_REPORT_UNREADABLE
    assert "b" in breach.details["unreadable"].split(",")


def test_a_negative_exposure_is_unreadable() -> None:
    breach = judge(figures(AccountLimits(gross_exposure=10), BotFigures("a", 0, -5)))
    assert breach is not None
    assert breach.code is AccountRiskCode.ACCOUNT_REPORT_UNREADABLE


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=8), st.floats(min_value=1, max_value=1e6)
)
def test_breach_exactly_when_the_sum_reaches_the_limit(losses: list[float], limit: float) -> None:
    bots = tuple(BotFigures(f"b{i}", loss, 0) for i, loss in enumerate(losses))
    verdict = judge(figures(AccountLimits(daily_loss=limit), *bots))
    assert (verdict is not None) == (sum(losses) >= limit)


def test_the_account_a_bot_declares_is_validated_in_nija_toml(tmp_path: Path) -> None:
    (tmp_path / "nija.toml").write_text('[exchange]\naccount = "main-kraken"\n')
    assert load_config(tmp_path).exchange.account == "main-kraken"
    (tmp_path / "nija.toml").write_text('[exchange]\naccount = "main kraken; rm -rf"\n')
    with pytest.raises(UsageProblem, match="account"):
        load_config(tmp_path)
