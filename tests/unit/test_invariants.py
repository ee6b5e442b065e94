"""Property-based stateful tests of DESIGN.md section 2's invariants, on real files.

Random sequences of operator actions, raw kill-file edits, corruption, restarts and
the passing of time; after every step the invariants must hold."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from nija.domain.errors import NijaError, UnsafeText
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.permission import decide
from nija.domain.records import TradingRecord
from nija.domain.states import Mode, TradingState
from nija.domain.text import find_unsafe
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore
from nija.testing import FakeClock

S = TradingState
ALICE, BOB = Who("alice", "test"), Who("bob", "test")


class SafetyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="nija-prop-"))
        self.clock = FakeClock()
        self.store = JsonFileStore(self.dir)
        self.service = SafetyService(self.store, clock=self.clock, policy=LivePolicy(min_dry_run=timedelta(minutes=5)))
        self.view = self.store.permission_view()
        self.codes: list[str] = []
        self.confirmed_by_rule = False

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def attempt(self, action: object) -> None:
        # Refusals are fine: the invariants check that nothing unsafe happened.
        with contextlib.suppress(NijaError):
            action()  # type: ignore[operator]

    def recover(self, action: object) -> None:
        """Invariant 2: a recovery either is refused and changes nothing, or ends outside live."""
        before = self.store.load()
        self.attempt(action)
        after = self.store.load()
        if after.trading != before.trading:
            assert not after.state.is_live
        else:
            assert after.state is before.state

    @rule()
    def restore(self) -> None:
        self.recover(lambda: self.service.restore(ALICE))

    @rule()
    def reset(self) -> None:
        self.recover(lambda: self.service.reset(ALICE))

    @rule(reason=st.text(max_size=20))
    def activate(self, reason: str) -> None:
        if find_unsafe(reason, multi_line=True) is not None:
            before = self.store.load()
            with pytest.raises(UnsafeText, match="did NOT activate"):  # invariant 12, and a refusal writes nothing
                self.service.activate_kill(reason, BOB)
            assert self.store.load() == before
            return
        self.service.activate_kill(reason, BOB)
        status = self.service.status()
        assert status.kill_active
        assert status.state is S.EMERGENCY_STOP

    @rule(reason=st.sampled_from(["", "fixed"]))
    def deactivate(self, reason: str) -> None:
        self.attempt(lambda: self.service.deactivate_kill(reason, ALICE))

    @rule()
    def touch_kill_file(self) -> None:
        (self.dir / "EMERGENCY_STOP").touch()
        assert not self.view.check().allowed

    @rule()
    def delete_kill_file(self) -> None:
        (self.dir / "EMERGENCY_STOP").unlink(missing_ok=True)

    @rule(minutes=st.integers(0, 20))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule(creds=st.booleans())
    def request_live(self, creds: bool) -> None:
        with contextlib.suppress(NijaError):
            self.codes.append(self.service.request_live(ALICE, credentials_configured=creds).code)

    @rule(pick=st.integers(0, 5), right_phrase=st.booleans(), who=st.sampled_from([ALICE, BOB]))
    def confirm_live(self, pick: int, right_phrase: bool, who: Who) -> None:
        code = self.codes[-1 - pick] if pick < len(self.codes) else "NOPE"
        phrase = ACKNOWLEDGMENT_PHRASE if right_phrase else "yes"
        before = self.service.status().state
        try:
            self.service.confirm_live(code, phrase, who)
        except NijaError:
            assert self.service.status().state is not S.LIVE_ACTIVE or before is S.LIVE_ACTIVE
            return
        # Invariant 1: only a confirm with the exact phrase and the latest code gets here.
        assert right_phrase
        assert pick == 0
        assert before is S.LIVE_PENDING_CONFIRMATION
        self.confirmed_by_rule = True

    @rule()
    def cancel_live(self) -> None:
        self.attempt(lambda: self.service.cancel_live(ALICE))

    @rule()
    def bot_restarts(self) -> None:
        self.service.on_bot_start(Who("bot", "bot"))
        assert not self.service.status().state.is_live  # invariant 6

    @rule(
        garbage=st.binary(max_size=30),
        which=st.sampled_from([".nija_trading_state.json", ".nija_kill_switch_state.json"]),
    )
    def corrupt_a_file(self, garbage: bytes, which: str) -> None:
        (self.dir / which).write_bytes(b"{" + garbage)
        status = self.service.status()
        assert status.kill_active  # invariant 4
        assert status.state is S.EMERGENCY_STOP
        assert not self.view.check().allowed

    @invariant()
    def no_order_passes_while_killed(self) -> None:
        snapshot = self.store.load()
        permission = self.view.check()
        fresh = decide(snapshot)  # the cached view agrees with a fresh read
        assert (permission.allowed, permission.mode) == (fresh.allowed, fresh.mode)
        if snapshot.kill_active:
            assert not permission.allowed  # invariant 3
        if permission.mode is Mode.LIVE:
            assert snapshot.state is S.LIVE_ACTIVE
            assert self.confirmed_by_rule

    @invariant()
    def history_chains_and_ends_at_current_state(self) -> None:
        trading = self.store.load().trading
        if not isinstance(trading, TradingRecord) or not trading.history:
            return
        for previous, entry in zip(trading.history, trading.history[1:], strict=False):
            assert entry.from_state is previous.to_state
        assert trading.history[-1].to_state is trading.current_state
        for entry in trading.history:  # invariant 5: who, how, why, when
            assert entry.actor
            assert entry.source
            assert entry.reason

    @invariant()
    def live_active_only_via_confirmation(self) -> None:
        trading = self.store.load().trading
        if isinstance(trading, TradingRecord) and trading.current_state is S.LIVE_ACTIVE:
            assert trading.history[-1].from_state is S.LIVE_PENDING_CONFIRMATION
            assert "risk acknowledgment" in trading.history[-1].reason


TestSafetyInvariants = SafetyMachine.TestCase
TestSafetyInvariants.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
