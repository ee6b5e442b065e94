"""Reconciliation that never assumes flat, and API-key attestation, against ccxt's real
clients with scripted or stateful replies (Kraken, Binance, OKX, Bybit), then in real
processes: a live request refused with the figures, and a live bot killed with source
AUTO_RECONCILIATION when exposure it cannot explain appears."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ccxt
import pytest

from nija.assembly import build_service
from nija.domain.errors import LiveRequestRefused
from nija.exchange_checks import ExchangeChecks, KeyAttestation, Reconciliation, Unexplained, check_for_live
from nija.runtime.account_checks import attest_key, reconcile_account
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.brokers.owned import OwnedBook
from tests.fakes.kraken import FakeKrakenAdapter, FakeKrakenState
from tests.fakes.scripted import scripted_client
from tests.runtime.live_process import (
    CASH_ONLY,
    CONFIG,
    OPERATOR,
    bot_env,
    confirm_when_acknowledged,
    report,
    start_bot,
)
from tests.runtime.runtime_helpers import candle, wait_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def checks(rec: Reconciliation | None = None, key: KeyAttestation | None = None, *, dms: bool = True) -> ExchangeChecks:
    return ExchangeChecks(
        venue="kraken",
        currency="USDT",
        written_at=NOW,
        pid=1,
        reconciliation=rec or Reconciliation(checked_at=NOW, status="matching"),
        attestation=key or KeyAttestation(checked_at=NOW, status="trade-only", ip_whitelist=True),
        dead_man_switch="armed" if dms else "NOT AVAILABLE on binance (spot): orders stay open if this bot dies",
        dead_man_switch_available=dms,
    )


def judge(c: ExchangeChecks | None, *, alive: bool = True, **policy: bool) -> tuple[str, ...]:
    return check_for_live(
        c,
        NOW,
        bot_alive=alive,
        max_age=timedelta(seconds=90),
        tolerance=10.0,
        require_dead_man_switch=policy.get("dms", False),
        require_key_attestation=policy.get("key", False),
    )


# -- the rules (pure) ------------------------------------------------------------------
def test_a_matching_account_with_a_trade_only_key_passes() -> None:
    assert judge(checks()) == ()


def test_a_key_that_can_withdraw_is_refused() -> None:
    with pytest.raises(LiveRequestRefused, match="can withdraw") as caught:
        judge(checks(key=KeyAttestation(checked_at=NOW, status="can withdraw", detail="binance apiRestrictions")))
    assert caught.value.code == "KEY_CAN_WITHDRAW"


def test_unknown_permissions_warn_and_the_policy_refuses() -> None:
    unknown = KeyAttestation(checked_at=NOW, status="unknown", detail="kraken does not report it")
    (warning,) = judge(checks(key=unknown))
    assert warning.startswith("permissions unknown")
    with pytest.raises(LiveRequestRefused, match="permissions unknown") as caught:
        judge(checks(key=unknown), key=True)
    assert caught.value.code == "KEY_PERMISSIONS_UNKNOWN"


def test_no_ip_whitelist_is_a_warning() -> None:
    (warning,) = judge(checks(key=KeyAttestation(checked_at=NOW, status="trade-only", ip_whitelist=False)))
    assert "no IP whitelist" in warning


def test_unexplained_exposure_is_refused_with_its_figures_and_tolerance_is_honoured() -> None:
    btc = Unexplained(currency="XBT", quantity=0.05, value=2_000.0)
    with pytest.raises(LiveRequestRefused) as caught:
        judge(checks(Reconciliation(checked_at=NOW, status="unexplained", unexplained=(btc,))))
    assert caught.value.code == "EXPOSURE_UNEXPLAINED"
    assert "0.05 XBT (2,000.00 USDT)" in caught.value.message
    dust = Unexplained(currency="XBT", quantity=0.0001, value=4.0)
    assert judge(checks(Reconciliation(checked_at=NOW, status="unexplained", unexplained=(dust,)))) == ()
    no_price = Unexplained(currency="DOGE", quantity=1.0, value=None)
    with pytest.raises(LiveRequestRefused, match="no price"):
        judge(checks(Reconciliation(checked_at=NOW, status="unexplained", unexplained=(no_price,))))


def test_an_unreadable_account_is_unknown_never_flat() -> None:
    with pytest.raises(LiveRequestRefused, match="never assumed flat") as caught:
        judge(checks(Reconciliation(checked_at=NOW, status="unknown", error="NETWORK_ERROR")))
    assert caught.value.code == "EXPOSURE_UNKNOWN"


def test_a_running_bot_without_a_fresh_report_is_refused_and_no_bot_is_left_to_the_live_rules() -> None:
    stale = checks().model_copy(update={"written_at": NOW - timedelta(minutes=5)})
    with pytest.raises(LiveRequestRefused, match="has not reported a fresh reconciliation"):
        judge(stale)
    with pytest.raises(LiveRequestRefused):
        judge(None)
    assert judge(None, alive=False) == ()


def test_require_dead_man_switch_refuses_a_venue_without_one() -> None:
    (warning,) = judge(checks(dms=False))
    assert "NOT AVAILABLE on binance (spot)" in warning
    with pytest.raises(LiveRequestRefused, match="dead man's switch NOT AVAILABLE") as caught:
        judge(checks(dms=False), dms=True)
    assert caught.value.code == "NO_DEAD_MAN_SWITCH"


# -- key attestation per venue (scripted HTTP) -----------------------------------------
def test_binance_reports_a_withdrawal_enabled_key() -> None:
    client, http = scripted_client(
        ccxt.binance,
        {"/account/apiRestrictions": {"ipRestrict": False, "enableWithdrawals": True, "enableReading": True}},
    )
    key = attest_key(client, NOW)
    assert (key.status, key.ip_whitelist) == ("can withdraw", False)
    assert len(http.calls("/account/apiRestrictions")) == 1


def test_binance_usdm_trade_only_key_with_ip_whitelist_passes() -> None:
    client, _ = scripted_client(
        ccxt.binanceusdm,
        {
            "/account/apiRestrictions": {
                "ipRestrict": True,
                "enableWithdrawals": False,
                "enableInternalTransfer": False,
                "permitsUniversalTransfer": False,
                "enableFutures": True,
            }
        },
    )
    key = attest_key(client, NOW)
    assert (key.status, key.ip_whitelist) == ("trade-only", True)
    assert judge(checks(key=key)) == ()


def test_okx_reads_the_key_permissions_from_the_account_configuration() -> None:
    client, _ = scripted_client(
        ccxt.okx,
        {"/account/config": {"code": "0", "msg": "", "data": [{"perm": "read_only,trade", "ip": ""}]}},
        password="p",  # noqa: S106 - a fake passphrase for a fake exchange
    )
    key = attest_key(client, NOW)
    assert (key.status, key.ip_whitelist) == ("trade-only", False)


def test_bybit_key_with_transfer_permission_is_refused() -> None:
    client, _ = scripted_client(
        ccxt.bybit,
        {
            "/v5/user/query-api": {
                "retCode": 0,
                "retMsg": "OK",
                "result": {"permissions": {"Wallet": ["AccountTransfer"], "Spot": ["SpotTrade"]}, "ips": ["*"]},
            }
        },
    )
    key = attest_key(client, NOW)
    assert (key.status, key.ip_whitelist) == ("can transfer", False)
    with pytest.raises(LiveRequestRefused):
        judge(checks(key=key))


def test_kraken_cannot_tell_so_the_permissions_are_unknown() -> None:
    client, http = scripted_client(ccxt.kraken, {})
    key = attest_key(client, NOW)
    assert key.status == "unknown"
    assert "does not report" in key.detail
    assert http.requests == []


def test_a_venue_that_errors_is_unknown() -> None:
    client, _ = scripted_client(ccxt.binance, {"/account/apiRestrictions": (500, {"code": -1000, "msg": "boom"})})
    assert attest_key(client, NOW).status == "unknown"


# -- reconciliation against the fake Kraken ------------------------------------------
def kraken(tmp_path: Path, fake: FakeKrakenState) -> ExchangeBroker:
    client = ccxt.kraken({"apiKey": "k", "secret": base64.b64encode(b"s").decode(), "enableRateLimit": False})
    client.session.mount("https://", FakeKrakenAdapter(fake.dir))
    (tmp_path / "d").mkdir(exist_ok=True)
    broker = ExchangeBroker(client, OwnedBook(tmp_path / "d", "kraken-t"), quote="USDT")
    broker.on_candle(candle(40_000.0))
    return broker


def test_reconciliation_matching_unexplained_and_unreadable(tmp_path: Path) -> None:
    cash = FakeKrakenState(tmp_path / "cash", balances=CASH_ONLY)
    assert reconcile_account(kraken(tmp_path, cash), NOW).status == "matching"
    held = FakeKrakenState(tmp_path / "held")  # 0.05 BTC the bot never bought
    held.add_foreign()
    rec = reconcile_account(kraken(tmp_path, held), NOW)
    assert rec.status == "unexplained"
    assert rec.foreign_open == 1
    (btc,) = rec.unexplained
    assert (btc.currency, btc.quantity, btc.value) == ("BTC", pytest.approx(0.05), pytest.approx(2_000.0))  # type: ignore[comparison-overlap]
    held.fail("OpenOrders", "EService:Unavailable")
    down = reconcile_account(kraken(tmp_path, held), NOW)
    assert down.status == "unknown"
    assert down.error


@pytest.mark.parametrize("btc", ["", "-1.0", "NaN"], ids=["total-none", "negative", "nan"])
def test_a_balance_that_cannot_be_read_is_unknown_never_flat(tmp_path: Path, btc: str) -> None:
    # "": ccxt's total is None (free/used only); "NaN": ccxt's parser raises ValueError.
    fake = FakeKrakenState(tmp_path / "k", balances={"USDT": "2500.0", "XXBT": btc})
    rec = reconcile_account(kraken(tmp_path, fake), NOW)
    assert rec.status == "unknown"
    assert rec.error
    with pytest.raises(LiveRequestRefused) as refused:
        judge(checks(rec))
    assert refused.value.code == "EXPOSURE_UNKNOWN"


# -- in real processes ---------------------------------------------------------------
FAST = CONFIG + "[exchange]\nreconcile_s = 0.5\n[live]\nmin_dry_run_minutes = 0\n"


def test_a_live_request_is_refused_with_the_figures_while_the_account_holds_unexplained_exposure(
    data_dir: Path, tmp_path: Path
) -> None:
    (data_dir / "nija.toml").write_text(FAST)
    fake = FakeKrakenState(tmp_path / "kraken")  # 0.05 BTC on the account, not bought by the bot
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake)
    try:
        wait_for(lambda: (data_dir / ".nija_exchange_checks.json").exists(), what="the bot's first check")
        with pytest.raises(LiveRequestRefused) as caught:
            build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
        assert caught.value.code == "EXPOSURE_UNEXPLAINED"
        assert "0.05 BTC" in caught.value.message
        assert build_service(data_dir).snapshot().state == "DRY_RUN"  # a refusal writes nothing
    finally:
        bot.send_signal(15)
        bot.communicate(timeout=60)


def test_a_live_bot_is_killed_when_unexplained_exposure_appears(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "nija.toml").write_text(FAST)
    fake = FakeKrakenState(tmp_path / "kraken", balances=dict(CASH_ONLY))
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake)
    try:
        wait_for(lambda: bool((r := report(data_dir)) and r.mode == "simulated"), what="the bot in DRY_RUN")
        wait_for(lambda: (data_dir / ".nija_exchange_checks.json").exists(), what="the bot's first check")
        request = build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
        assert any("permissions unknown" in w for w in request.outcome.warnings)  # kraken cannot tell
        confirm_when_acknowledged(build_service(data_dir), request.code)
        wait_for(lambda: bool((r := report(data_dir)) and r.mode == "live"), what="the bot live")
        with fake.book() as state:
            state["balances"]["XXBT"] = "0.5"  # someone else bought on this account
        wait_for(lambda: build_service(data_dir).snapshot().kill_active, timeout=60, what="the automatic kill")
    finally:
        bot.send_signal(15)
        bot.communicate(timeout=60)
    kill = build_service(data_dir).history()[1][-1]
    assert kill.source == "AUTO_RECONCILIATION"
    assert "0.5 BTC" in kill.reason


def test_the_live_wizard_shows_the_key_and_the_dead_man_switch(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "nija.toml").write_text(FAST)
    fake = FakeKrakenState(tmp_path / "kraken", balances=dict(CASH_ONLY))
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake)
    try:
        wait_for(lambda: (data_dir / ".nija_exchange_checks.json").exists(), what="the bot's first check")
        wizard = subprocess.run(
            [sys.executable, "-m", "nija", "live", "request", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=bot_env(fake),
            timeout=60,
            check=False,
        )
    finally:
        bot.send_signal(15)
        bot.communicate(timeout=60)
    assert wizard.returncode == 0, wizard.stderr
    assert "permissions unknown: kraken does not report an API key's permissions through ccxt" in wizard.stdout
    assert "Dead man's switch: available (60 s), armed with the first live order" in wizard.stdout
    assert "Reconciliation: the account matches the bot's own fills" in wizard.stdout
