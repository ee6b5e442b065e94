"""The transition table, the kill rule, recovery plans and the live flow, without I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nija.domain import killswitch, recovery
from nija.domain.errors import IllegalTransition, KillSwitchActive, LiveRequestRefused, SafetyRefusal
from nija.domain.events import Event, EventKind
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.live_auth import MAX_WRONG_CODES, normalize_code
from nija.domain.records import MAX_HISTORY, Snapshot, TradingRecord, Unreadable
from nija.domain.states import TRANSITIONS, Mode, TradingState, validate_table
from nija.domain.transitions import Who, transition
from nija.service import SafetyService
from nija.store.memory import MemoryStore
from nija.testing import FakeClock, HeartbeatBot

S = TradingState
OPERATOR = Who("alice", "test")
OTHER = Who("bob", "test")

DESIGN_TABLE = {
    S.OFF: {S.DRY_RUN, S.EMERGENCY_STOP},
    S.DRY_RUN: {S.OFF, S.LIVE_PENDING_CONFIRMATION, S.EMERGENCY_STOP},
    S.LIVE_PENDING_CONFIRMATION: {S.LIVE_ACTIVE, S.DRY_RUN, S.OFF, S.EMERGENCY_STOP},
    S.LIVE_ACTIVE: {S.DRY_RUN, S.OFF, S.EMERGENCY_STOP},
    S.EMERGENCY_STOP: {S.OFF},
}


def test_table_is_exactly_design_section_2() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == DESIGN_TABLE


@pytest.mark.parametrize(
    ("table_edit", "message"),
    [
        ({S.OFF: frozenset({S.LIVE_ACTIVE, S.EMERGENCY_STOP})}, "only from LIVE_PENDING_CONFIRMATION"),
        ({S.DRY_RUN: frozenset({S.OFF})}, "cannot reach EMERGENCY_STOP"),
        ({S.OFF: frozenset({S.OFF, S.EMERGENCY_STOP})}, "self-loop"),
    ],
)
def test_unsafe_tables_are_rejected_when_loaded(table_edit: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        validate_table({**TRANSITIONS, **table_edit})


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_pair_follows_the_table(current: S, target: S) -> None:
    record = TradingRecord(current_state=current)
    now = FakeClock()()
    allowed = target in DESIGN_TABLE[current] and target is not S.LIVE_ACTIVE
    if allowed:
        assert transition(record, target, "r", OPERATOR, now, kill_active=False).current_state is target
    else:
        with pytest.raises(IllegalTransition, match=f"Can't move to {target}"):
            transition(record, target, "r", OPERATOR, now, kill_active=False)


def test_leaving_emergency_stop_needs_the_kill_switch_inactive() -> None:
    record = TradingRecord(current_state=S.EMERGENCY_STOP)
    with pytest.raises(KillSwitchActive):
        transition(record, S.OFF, "r", OPERATOR, FakeClock()(), kill_active=True)


def test_history_is_bounded_but_keeps_the_newest() -> None:
    record = TradingRecord()
    now = FakeClock()()
    for i in range(MAX_HISTORY + 50):
        target = S.DRY_RUN if record.current_state is S.OFF else S.OFF
        record = transition(record, target, f"step {i}", OPERATOR, now, kill_active=False)
    assert len(record.history) == MAX_HISTORY >= 500
    assert record.history[-1].reason == f"step {MAX_HISTORY + 49}"


def test_restore_plans_never_lead_to_live() -> None:
    for state in S:
        plan = recovery.plan_restore(Snapshot(trading=TradingRecord(current_state=state)))
        assert all(not step.to_state.is_live for step in plan.steps)
        end = plan.steps[-1].to_state if plan.steps else state
        assert end is S.DRY_RUN


def test_restore_from_live_active_warns_about_open_positions() -> None:
    plan = recovery.plan_restore(Snapshot(trading=TradingRecord(current_state=S.LIVE_ACTIVE)))
    assert plan.path == "LIVE_ACTIVE → DRY_RUN"
    assert "positions" in plan.warnings[0]


def test_restore_refuses_while_killed_whatever_the_sign() -> None:
    killed = [
        Snapshot(kill_flag=True),
        Snapshot(kill=Unreadable("k", "bad")),
        Snapshot(trading=Unreadable("s", "bad")),
        Snapshot(kill=killswitch.activate(Snapshot(), "x", OPERATOR, FakeClock()()).kill or Snapshot().kill),
    ]
    for snapshot in killed:
        with pytest.raises(KillSwitchActive):
            recovery.plan_restore(snapshot)
        with pytest.raises(KillSwitchActive):
            recovery.plan_reset(snapshot)


def test_deactivation_needs_a_reason() -> None:
    with pytest.raises(SafetyRefusal, match="needs a reason"):
        killswitch.deactivate(Snapshot(kill_flag=True), "   ", OPERATOR, FakeClock()())


def live_service(clock: FakeClock, **policy: object) -> SafetyService:
    service = SafetyService(MemoryStore(), clock=clock, policy=LivePolicy(**policy))  # type: ignore[arg-type]
    service.restore(OPERATOR)
    return service


def requested(service: SafetyService, bot: HeartbeatBot, who: Who = OPERATOR) -> str:
    """Request live for the running bot, and let the bot acknowledge it; returns the code."""
    code = service.request_live(who, credentials_configured=True).code
    bot.step()
    return code


def test_live_request_refused_until_the_running_bot_ran_long_enough_in_dry_run() -> None:
    clock = FakeClock()
    service = live_service(clock)
    bot = HeartbeatBot(service.store, clock, dry_run_s=59 * 60)
    clock.advance(minutes=600)  # wall-clock time in DRY_RUN does not count; the bot's does
    bot.step()
    with pytest.raises(LiveRequestRefused, match=r"1\.0 minutes remain") as refused:
        service.request_live(OPERATOR, credentials_configured=True)
    assert refused.value.code == "DRY_RUN_TOO_SHORT"
    bot.dry_run_s = 60 * 60
    bot.step()
    request = service.request_live(OPERATOR, credentials_configured=True)
    assert service.status().state is S.LIVE_PENDING_CONFIRMATION
    assert request.expires_at == clock.now + timedelta(minutes=10)


def test_live_request_without_a_running_bot_says_to_start_it_and_writes_nothing() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    before = service.snapshot()
    with pytest.raises(LiveRequestRefused, match="No bot is running in DRY_RUN") as no_bot:
        service.request_live(OPERATOR, credentials_configured=True)
    assert no_bot.value.code == "NO_BOT_RUNNING"
    bot = HeartbeatBot(service.store, clock)
    bot.stop()  # a bot that stopped is not running
    with pytest.raises(LiveRequestRefused, match="No bot is running"):
        service.request_live(OPERATOR, credentials_configured=True)
    HeartbeatBot(service.store, clock)
    clock.advance(minutes=1)  # its heartbeat is too old now
    with pytest.raises(LiveRequestRefused, match="No bot is running"):
        service.request_live(OPERATOR, credentials_configured=True)
    assert service.snapshot().trading == before.trading


def test_live_request_needs_credentials_and_dry_run() -> None:
    clock = FakeClock()
    service = SafetyService(MemoryStore(), clock=clock, policy=LivePolicy(min_dry_run=timedelta(0)))
    HeartbeatBot(service.store, clock)
    with pytest.raises(LiveRequestRefused, match="must be in DRY_RUN"):
        service.request_live(OPERATOR, credentials_configured=True)
    service.restore(OPERATOR)
    with pytest.raises(LiveRequestRefused, match="credentials"):
        service.request_live(OPERATOR, credentials_configured=False)


def test_the_code_carries_at_least_64_bits_and_is_never_stored() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    HeartbeatBot(service.store, clock)
    code = service.request_live(OPERATOR, credentials_configured=True).code
    assert len(normalize_code(code)) * 5 >= 64  # base32: 5 bits a character
    pending = service.snapshot().trading.pending_live  # type: ignore[union-attr]
    assert pending is not None
    assert normalize_code(code) not in repr(pending)
    assert len(pending.nonce) >= 32
    assert len(pending.run_id) >= 16


def test_confirm_needs_the_code_and_the_exact_phrase_once() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    bot = HeartbeatBot(service.store, clock)
    code = requested(service, bot)
    with pytest.raises(LiveRequestRefused, match="Wrong confirmation code"):
        service.confirm_live("WRONG", ACKNOWLEDGMENT_PHRASE, OPERATOR)
    with pytest.raises(SafetyRefusal, match="not typed exactly"):
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE.lower(), OPERATOR)
    outcome = service.confirm_live(code.lower().replace("-", " "), ACKNOWLEDGMENT_PHRASE, OPERATOR)
    assert outcome.after is S.LIVE_ACTIVE
    assert bot.step().mode is Mode.LIVE
    assert service.status().permission.mode is Mode.LIVE
    service.restore(OPERATOR)
    requested(service, bot)
    with pytest.raises(LiveRequestRefused, match="Wrong confirmation code"):
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)  # the old code is spent


def test_confirm_waits_for_the_bot_to_acknowledge_the_request() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    bot = HeartbeatBot(service.store, clock)
    code = service.request_live(OPERATOR, credentials_configured=True).code
    with pytest.raises(LiveRequestRefused, match="not acknowledged") as early:
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)
    assert early.value.code == "NOT_ACKNOWLEDGED"
    assert service.status().state is S.LIVE_PENDING_CONFIRMATION  # nothing written, nothing counted
    bot.step()
    assert service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR).after is S.LIVE_ACTIVE


def test_confirm_refuses_when_the_requested_run_is_gone() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    code = requested(service, HeartbeatBot(service.store, clock))
    HeartbeatBot(service.store, clock)  # the bot restarted: another run beats now
    with pytest.raises(LiveRequestRefused, match="no longer running") as gone:
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)
    assert gone.value.code == "REQUESTED_RUN_GONE"


def test_five_wrong_codes_cancel_the_request_and_each_is_recorded() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    events: list[Event] = []
    service.listeners.append(events.append)
    code = requested(service, HeartbeatBot(service.store, clock))
    for attempt in range(1, MAX_WRONG_CODES):
        with pytest.raises(LiveRequestRefused, match=f"{attempt} of {MAX_WRONG_CODES}") as wrong:
            service.confirm_live("AAAA-AAAA-AAAA-AAAA", ACKNOWLEDGMENT_PHRASE, OTHER)
        assert wrong.value.code == "WRONG_CODE"
        assert service.status().state is S.LIVE_PENDING_CONFIRMATION
    with pytest.raises(LiveRequestRefused, match="cancelled") as last:
        service.confirm_live("AAAA-AAAA-AAAA-AAAA", ACKNOWLEDGMENT_PHRASE, OTHER)
    assert last.value.code == "TOO_MANY_WRONG_CODES"
    assert service.status().state is S.DRY_RUN
    assert "wrong confirmation codes" in service.history()[0][-1].reason
    with pytest.raises(LiveRequestRefused, match="no pending request"):
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)  # the right code is dead too
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.LIVE_WRONG_CODE) == MAX_WRONG_CODES
    assert EventKind.LIVE_CANCELLED in kinds


def test_expired_request_returns_to_dry_run_and_cannot_be_confirmed() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    code = requested(service, HeartbeatBot(service.store, clock))
    clock.advance(minutes=10)
    assert [i.code for i in service.status().inconsistencies] == [
        "LIVE_STATE_WITHOUT_BOT",
        "PENDING_CONFIRMATION_EXPIRED",
    ]
    with pytest.raises(SafetyRefusal, match="expired"):
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)
    assert service.status().state is S.DRY_RUN


def test_second_person_rule_compares_principals_not_names() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0), require_second_person=True)
    bot = HeartbeatBot(service.store, clock)
    alice = Who("alice@host", "cli", "uid:1000@host")
    code = requested(service, bot, alice)
    with pytest.raises(LiveRequestRefused, match="second person"):
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, alice)
    renamed = Who("bob@host", "cli", "uid:1000@host")  # same account, another name ($USER)
    with pytest.raises(LiveRequestRefused, match="second person"):
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, renamed)
    outcome = service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, Who("alice@host", "api", "token:bob"))
    assert outcome.after is S.LIVE_ACTIVE


@pytest.mark.parametrize("stage", ["pending", "active"])
def test_kill_during_live_stops_everything(stage: str) -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    bot = HeartbeatBot(service.store, clock)
    code = requested(service, bot)
    if stage == "active":
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)
        assert bot.step().mode is Mode.LIVE
    service.activate_kill("market halted", OTHER)
    status = service.status()
    assert status.state is S.EMERGENCY_STOP
    assert not status.can_trade
    assert not bot.step().allowed
    with pytest.raises(LiveRequestRefused):
        service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)


def test_restart_rule_turns_live_into_off_and_keeps_kills_latched() -> None:
    clock = FakeClock()
    service = live_service(clock, min_dry_run=timedelta(0))
    code = requested(service, HeartbeatBot(service.store, clock))
    service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, OPERATOR)
    outcome = service.on_bot_start(Who("bot", "bot"))
    assert (outcome.before, outcome.after) == (S.LIVE_ACTIVE, S.OFF)
    assert "restart never resumes live" in outcome.transitions[0].reason
    service.activate_kill("x", OPERATOR)
    assert service.on_bot_start(Who("bot", "bot")).after is S.EMERGENCY_STOP
    assert service.status().kill_active


def test_listener_failure_never_blocks_a_kill() -> None:
    service = SafetyService(MemoryStore(), clock=FakeClock())

    def broken(event: object) -> None:
        raise RuntimeError("audit disk gone")

    service.listeners.append(broken)
    service.activate_kill("x", OPERATOR)
    assert service.status().kill_active
    assert any("audit disk gone" in e for e in service.listener_errors)
