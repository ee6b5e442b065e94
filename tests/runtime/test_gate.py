"""The order gate: no order in OFF, LIVE_PENDING_CONFIRMATION or EMERGENCY_STOP, or while
the kill file exists; DRY_RUN goes to paper, LIVE_ACTIVE to the live broker; any error
while deciding denies. Property-based over random interleavings of state changes and
orders, on real files, checked against an oracle that reads the files itself."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from nija.assembly import build_service
from nija.domain.errors import NijaError
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.records import TradingRecord
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, OrderType, Outcome, Side
from nija.runtime.settings import PaperSettings
from nija.service import SafetyService
from nija.testing import FakeClock, HeartbeatBot
from tests.runtime.runtime_helpers import candle

OPERATOR = Who("alice@host", "cli")
RICH = PaperSettings(starting_cash=1e12)
ORDER = OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.001, 1.0)


def oracle(data_dir: Path) -> Mode | None:
    """What the files say, read without any of the gate's code."""
    if (data_dir / "EMERGENCY_STOP").exists():
        return None
    try:
        state = json.loads((data_dir / ".nija_trading_state.json").read_text())["current_state"]
    except FileNotFoundError:
        state = "OFF"
    except (ValueError, KeyError):
        return None
    try:
        if json.loads((data_dir / ".nija_kill_switch_state.json").read_text())["is_active"]:
            return None
    except FileNotFoundError:
        pass
    except (ValueError, KeyError):
        return None
    return {"DRY_RUN": Mode.SIMULATED, "LIVE_ACTIVE": Mode.LIVE}.get(state)


def state_bytes(data_dir: Path) -> bytes:
    try:
        return (data_dir / ".nija_trading_state.json").read_bytes()
    except FileNotFoundError:
        return b""


def live_nonce(data_dir: Path) -> str:
    """The nonce of the grant of a LIVE_ACTIVE state file, or "" for anything else."""
    try:
        doc = json.loads(state_bytes(data_dir))
        grant = doc.get("live_grant") if doc.get("current_state") == "LIVE_ACTIVE" else None
        return str(grant["nonce"]) if isinstance(grant, dict) else ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


class GateInterleavings(RuleBasedStateMachine):
    """Random interleavings of requests, confirms, bot restarts, a second bot on the same
    scope, file restores from backups, hand edits and kills, with the running bot's gate
    (its own verifier) placing orders. The bot's watcher is modelled by a step after every
    rule (the real one wakes on every file change). The model of the one legitimate path:
    live is verified only from a confirm of a request made for the running run, until the
    state file changes in any way."""

    @initialize()
    def setup(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="nija-gate-"))
        self.clock = FakeClock()
        self.service = SafetyService(
            build_service(self.dir).store, clock=self.clock, policy=LivePolicy(min_dry_run=timedelta(0))
        )
        self.paper = PaperBroker(self.dir, RICH)
        self.live = PaperBroker(Path(tempfile.mkdtemp(prefix="nija-live-")), RICH)
        for broker in (self.paper, self.live):
            broker.on_candle(candle(1.0))
        self.accepted = {Mode.SIMULATED: 0, Mode.LIVE: 0}
        self.backups: list[bytes] = []
        self.code = ""
        self._start_bot()

    def _start_bot(self) -> None:
        """A bot (re)start: a new run, the restart rule, a gate that reads through its verifier."""
        self.bot = HeartbeatBot(self.service.store, self.clock)
        with contextlib.suppress(NijaError):
            self.service.on_bot_start(Who("bot", "bot"))
        self.gate = OrderGate(self.bot.view, {Mode.SIMULATED: self.paper, Mode.LIVE: self.live})
        self.verified_live, self.live_nonce = False, ""
        self.bot.step()

    def _try(self, action: object) -> None:
        self.clock.advance(seconds=1)
        confirmed = False
        with contextlib.suppress(NijaError):  # refused by a safety rule: the state did not change
            confirmed = action() == "confirmed"  # type: ignore[operator]
        if confirmed:
            self.verified_live, self.live_nonce = True, live_nonce(self.dir)
        elif (self.dir / "EMERGENCY_STOP").exists() or live_nonce(self.dir) != self.live_nonce:
            # Still the same confirmed session (a rewrite or restore of that very record,
            # never left) trades on; anything else ends it for good.
            self.verified_live = False
        self.bot.step()  # the watcher saw the change

    @rule()
    def restore(self) -> None:
        self._try(lambda: self.service.restore(OPERATOR))

    @rule()
    def reset(self) -> None:
        self._try(lambda: self.service.reset(OPERATOR))

    @rule(how=st.sampled_from(["activate", "touch_file", "delete_file", "deactivate", "corrupt_state_file"]))
    def kill_switch(self, how: str) -> None:
        kill_file = self.dir / "EMERGENCY_STOP"
        if how == "activate":
            self._try(lambda: self.service.activate_kill("test", OPERATOR))
        elif how == "touch_file":
            self._try(kill_file.touch)
        elif how == "delete_file":  # by hand: a recorded kill stays active
            self._try(lambda: kill_file.unlink(missing_ok=True))
        elif how == "deactivate":
            self._try(lambda: self.service.deactivate_kill("fixed", OPERATOR))
        else:  # fails closed for good: nothing in this run can repair it
            self._try(lambda: (self.dir / ".nija_trading_state.json").write_text('{"current_state": "LIVE_ACTIV'))

    @rule()
    def deactivate_and_restore(self) -> None:
        self._try(lambda: self.service.deactivate_kill("fixed", OPERATOR))
        self._try(lambda: self.service.restore(OPERATOR))

    @rule()
    def request_live(self) -> None:
        def request() -> None:
            self.code = self.service.request_live(OPERATOR, credentials_configured=True).code

        self._try(request)

    @rule(right_code=st.booleans())
    def confirm(self, right_code: bool) -> None:
        def confirm() -> str:
            snap = self.service.snapshot()
            pending = snap.trading.pending_live if isinstance(snap.trading, TradingRecord) else None
            code = self.code if right_code else "AAAA-AAAA-AAAA-AAAA"
            self.service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, Who("bob@host", "api"))
            # The one legitimate path: a request made for the run that is running now.
            return "confirmed" if pending is not None and pending.run_id == self.bot.run_id else "other run"

        self._try(confirm)

    @rule()
    def go_live_the_legitimate_way(self) -> None:
        self.deactivate_and_restore()
        self.request_live()
        self.confirm(right_code=True)

    @rule()
    def restart_bot(self) -> None:
        self.clock.advance(seconds=1)
        self._start_bot()

    @rule()
    def second_bot_on_the_same_scope_beats(self) -> None:
        """Another bot's heartbeat replaces ours: a request now names the other run."""
        self._try(lambda: HeartbeatBot(self.service.store, self.clock))

    @rule()
    def take_backup(self) -> None:
        self.backups.append(state_bytes(self.dir))

    @rule(data=st.data())
    def restore_backup(self, data: st.DataObject) -> None:
        if not self.backups:
            return
        backup = data.draw(st.sampled_from(self.backups))
        if backup:
            self._try(lambda: (self.dir / ".nija_trading_state.json").write_bytes(backup))

    @rule(grant=st.sampled_from(["none", "own_run_random_nonce", "own_run_pending_nonce"]))
    def hand_edit_to_live(self, grant: str) -> None:
        """An editor who can read the heartbeat and the pending request, but not the code."""

        def edit() -> None:
            path = self.dir / ".nija_trading_state.json"
            try:
                doc = json.loads(path.read_text())
            except (OSError, ValueError):
                return  # nothing readable to edit
            pending = doc.get("pending_live") or {}
            doc["history"].append(
                {
                    "from": "LIVE_PENDING_CONFIRMATION",
                    "to": "LIVE_ACTIVE",
                    "reason": "Live trading confirmed",
                    "timestamp": self.clock().isoformat(),
                    "actor": "bob",
                    "source": "api",
                }
            )
            doc["current_state"] = "LIVE_ACTIVE"
            doc.pop("pending_live", None)
            doc.pop("live_grant", None)
            if grant != "none":
                doc["live_grant"] = {
                    "run_id": self.bot.run_id,
                    "nonce": pending.get("nonce", "0" * 32) if grant == "own_run_pending_nonce" else "1" * 32,
                    "proof": "2" * 64,
                    "confirmed_by": "bob",
                    "confirmed_principal": "token:bob",
                    "confirmed_at": self.clock().isoformat(),
                }
            path.write_text(json.dumps(doc))

        self._try(edit)

    @rule()
    def place(self) -> None:
        on_file = oracle(self.dir)
        expected = None if on_file is Mode.LIVE and not self.verified_live else on_file
        before = {m: len(b.open_orders()) for m, b in ((Mode.SIMULATED, self.paper), (Mode.LIVE, self.live))}
        result = self.gate.place(ORDER)
        event(f"order {result.code} {expected}")
        if expected is None:
            assert result.outcome is Outcome.DENIED, result
            assert result.code
            if on_file is Mode.LIVE:
                assert result.code == "LIVE_NOT_VERIFIED", result
        else:
            assert result.accepted, result
            self.accepted[expected] += 1
        after = {m: len(b.open_orders()) for m, b in ((Mode.SIMULATED, self.paper), (Mode.LIVE, self.live))}
        for mode in after:
            assert after[mode] == before[mode] + (1 if mode is expected else 0)

    @invariant()
    def denials_are_counted(self) -> None:
        if hasattr(self, "gate"):
            assert self.gate.placed >= 0

    @invariant()
    def no_live_order_without_a_verified_confirmation_for_the_running_run(self) -> None:
        if hasattr(self, "live"):
            assert len(self.live.open_orders()) == self.accepted[Mode.LIVE]

    def teardown(self) -> None:
        if hasattr(self, "paper"):
            self.paper.close()
            self.live.close()


GateInterleavings.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
test_gate_interleavings = GateInterleavings.TestCase


@pytest.fixture
def dry_run_dir(data_dir: Path) -> Path:
    build_service(data_dir).restore(OPERATOR)
    return data_dir


def test_when_a_veto_raises_then_the_order_is_denied(dry_run_dir: Path) -> None:
    paper = PaperBroker(dry_run_dir, RICH)

    def broken_veto(request: OrderRequest, broker: object) -> tuple[str, str] | None:
        raise ZeroDivisionError("risk model broke")

    gate = OrderGate(build_service(dry_run_dir).store.permission_view(), {Mode.SIMULATED: paper}, vetoes=[broken_veto])
    result = gate.place(ORDER)
    assert result.outcome is Outcome.DENIED
    assert result.code == "CHECK_FAILED"
    assert "risk model broke" in result.reason
    assert paper.open_orders() == ()
    assert gate.denials == {"CHECK_FAILED": 1}


def test_when_no_live_broker_then_live_orders_are_denied_with_a_reason(dry_run_dir: Path) -> None:
    gate = OrderGate(build_service(dry_run_dir).store.permission_view(), {})
    result = gate.place(ORDER)
    assert result.code == "NO_BROKER"


def test_cancels_pass_while_killed(dry_run_dir: Path) -> None:
    paper = PaperBroker(dry_run_dir, RICH)
    service = build_service(dry_run_dir)
    gate = OrderGate(service.store.permission_view(), {Mode.SIMULATED: paper})
    order = gate.place(ORDER).order
    assert order is not None
    os.close(os.open(dry_run_dir / "EMERGENCY_STOP", os.O_CREAT | os.O_WRONLY))
    assert gate.place(ORDER).code == "KILL_SWITCH_ACTIVE"
    assert gate.cancel(paper, order.id).ok
    assert paper.open_orders() == ()
    assert gate.denials == {"KILL_SWITCH_ACTIVE": 1}


def test_an_amend_while_killed_cancels_and_denies_the_replacement(dry_run_dir: Path) -> None:
    paper = PaperBroker(dry_run_dir, RICH)
    gate = OrderGate(build_service(dry_run_dir).store.permission_view(), {Mode.SIMULATED: paper})
    order = gate.place(ORDER).order
    assert order is not None
    replacement = OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.001, 2.0)
    cancelled, placed = gate.amend(paper, order.id, replacement)
    assert cancelled.ok
    assert placed is not None
    assert placed.accepted
    os.close(os.open(dry_run_dir / "EMERGENCY_STOP", os.O_CREAT | os.O_WRONLY))
    assert placed.order is not None
    cancelled, placed = gate.amend(paper, placed.order.id, replacement)
    assert cancelled.ok
    assert placed is not None
    assert placed.code == "KILL_SWITCH_ACTIVE"
    assert paper.open_orders() == ()


def test_each_denial_carries_the_time_it_happened_not_the_time_it_is_shown(dry_run_dir: Path) -> None:
    clock = FakeClock()
    paper = PaperBroker(dry_run_dir, RICH)
    refuse = lambda request, broker: ("TOO_BIG", "too big")  # noqa: E731
    gate = OrderGate(
        build_service(dry_run_dir).store.permission_view(), {Mode.SIMULATED: paper}, vetoes=[refuse], clock=clock
    )
    first = clock.now
    gate.place(ORDER)
    later = clock.advance(minutes=7)
    gate.place(ORDER)
    assert [d.at for d in gate.recent_denials] == [first, later]
    assert gate.last_denied == {"TOO_BIG": later}
