"""``nija live request`` with a guarded bot running: the request reads the guarded bot's
own reconciliation with the exchange (as for ``nija run``), through the service the CLI
builds (its exchange checks attached)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nija.assembly import build_service
from nija.domain.errors import LiveRequestRefused
from nija.exchange_checks import read_checks
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import OPERATOR, dry_run

NO_WAIT = "[live]\nmin_dry_run_minutes = 0\n"


def test_a_cash_only_account_lets_the_operator_request_live(data_dir: Path, guarded: Any) -> None:
    (data_dir / "nija.toml").write_text(NO_WAIT)
    dry_run(data_dir)
    guarded()
    checks = read_checks(data_dir)
    assert checks is not None
    assert checks.reconciliation is not None
    assert checks.reconciliation.status == "matching"
    request = build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
    assert request.code
    assert any("dead man's switch" in w for w in request.outcome.warnings)  # said, not hidden


def test_holdings_the_guard_cannot_explain_refuse_live(data_dir: Path, fake: FakeKraken, guarded: Any) -> None:
    (data_dir / "nija.toml").write_text(NO_WAIT)
    fake.balances["XXBT"] = "0.5"
    dry_run(data_dir)
    guarded()
    with pytest.raises(LiveRequestRefused, match="BTC") as refused:
        build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
    assert refused.value.code == "EXPOSURE_UNEXPLAINED"
    assert build_service(data_dir).snapshot().state == "DRY_RUN"  # the refusal wrote nothing


def test_an_unreadable_account_refuses_live(data_dir: Path, fake: FakeKraken, guarded: Any) -> None:
    (data_dir / "nija.toml").write_text(NO_WAIT)
    fake.fail("BalanceEx", "EService:Unavailable")
    dry_run(data_dir)
    guarded()
    with pytest.raises(LiveRequestRefused) as refused:
        build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
    assert refused.value.code == "EXPOSURE_UNKNOWN"
