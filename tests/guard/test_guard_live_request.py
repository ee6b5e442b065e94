"""``nija live request`` with a guarded bot running, sync or async: the request reads the
guarded bot's own reconciliation with the exchange (as for ``nija run``), through the
service the CLI builds (its exchange checks attached)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from nija.assembly import build_service
from nija.domain.errors import LiveRequestRefused
from nija.exchange_checks import ExchangeChecks, read_checks
from nija.live_flow import LiveRequest
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import OPERATOR, dry_run, eventually, go_live, kraken, run_async

SYMBOL = "BTC/USDT"

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


def test_the_full_live_flow_through_the_clis_service_reaches_the_exchange(
    data_dir: Path, fake: FakeKraken, guarded: Any
) -> None:
    (data_dir / "nija.toml").write_text(NO_WAIT)
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir, svc=build_service(data_dir))  # request (exchange checks judged), confirm, verified
    order = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    (sent,) = fake.calls("AddOrder")
    assert sent["cl_ord_id"].startswith("nj")
    assert set(fake.open_orders()) == {order["id"]}


# -- the async guard: the same checks, read on the bot's loop ---------------------------
def first_checks(data_dir: Path) -> ExchangeChecks | None:
    checks = read_checks(data_dir)
    return checks if checks is not None and checks.reconciliation is not None else None


def test_an_async_guarded_bot_with_keys_writes_its_account_checks(data_dir: Path, fake: FakeKraken) -> None:
    dry_run(data_dir)
    foreign = kraken(fake).create_limit_buy_order(SYMBOL, 0.02, 39_000.0)["id"]  # placed past the guard

    async def body(exchange: Any) -> None:
        await eventually(lambda: first_checks(data_dir) is not None, "the async guard's account check")

    run_async(body, fake, data_dir)
    checks = first_checks(data_dir)
    assert checks is not None
    assert checks.reconciliation is not None
    assert (checks.venue, checks.currency, checks.pid) == ("kraken", "USDT", os.getpid())
    assert checks.reconciliation.status == "matching"  # cash only
    assert (checks.reconciliation.own_open, checks.reconciliation.foreign_open) == (0, 1)
    assert checks.attestation is not None
    assert checks.attestation.status == "unknown"  # Kraken does not say what a key may do
    assert not checks.dead_man_switch_available
    assert fake.calls("BalanceEx")  # read from the exchange, not assumed
    assert set(fake.open_orders()) == {foreign}  # reads only: nothing cancelled or placed
    assert len(fake.calls("AddOrder")) == 1


def test_a_cash_only_account_lets_the_operator_request_live_with_an_async_bot(data_dir: Path, fake: FakeKraken) -> None:
    (data_dir / "nija.toml").write_text(NO_WAIT)
    dry_run(data_dir)
    requested: list[LiveRequest] = []

    async def body(exchange: Any) -> None:
        await eventually(lambda: first_checks(data_dir) is not None, "the async guard's account check")
        svc = build_service(data_dir)
        requested.append(await asyncio.to_thread(svc.request_live, OPERATOR, credentials_configured=True))

    run_async(body, fake, data_dir)
    (request,) = requested
    assert request.code
    assert any("dead man's switch" in w for w in request.outcome.warnings)


def test_holdings_an_async_guard_cannot_explain_refuse_live_with_the_figures(data_dir: Path, fake: FakeKraken) -> None:
    (data_dir / "nija.toml").write_text(NO_WAIT + "[exchange]\nreconcile_s = 0.2\n")
    fake.balances["XXBT"] = "0.5"
    dry_run(data_dir)
    refusals: list[LiveRequestRefused] = []

    def valued() -> bool:
        checks = first_checks(data_dir)
        return checks is not None and any(u.value for u in checks.reconciliation.unexplained)  # type: ignore[union-attr]

    async def body(exchange: Any) -> None:
        await exchange.fetch_ticker(SYMBOL)  # the bot's own price: the next check values the BTC
        await eventually(valued, "a reconciliation valuing the unexplained BTC")
        svc = build_service(data_dir)
        with pytest.raises(LiveRequestRefused) as refused:
            await asyncio.to_thread(svc.request_live, OPERATOR, credentials_configured=True)
        refusals.append(refused.value)

    run_async(body, fake, data_dir)
    (refused,) = refusals
    assert refused.code == "EXPOSURE_UNEXPLAINED"
    assert "0.5 BTC (21,500.00 USDT)" in refused.message
    assert build_service(data_dir).snapshot().state == "DRY_RUN"  # the refusal wrote nothing
    assert fake.calls("AddOrder") == []


def test_the_full_async_live_flow_through_the_clis_service_reaches_the_exchange(
    data_dir: Path, fake: FakeKraken
) -> None:
    (data_dir / "nija.toml").write_text(NO_WAIT)
    dry_run(data_dir)

    async def body(exchange: Any) -> None:
        await eventually(lambda: first_checks(data_dir) is not None, "the async guard's account check")
        await asyncio.to_thread(go_live, data_dir, 30.0, build_service(data_dir))  # off the loop: it waits
        order = await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
        (sent,) = fake.calls("AddOrder")
        assert sent["cl_ord_id"].startswith("nj")
        assert set(fake.open_orders()) == {order["id"]}

    run_async(body, fake, data_dir)
