"""Any sequence of the original's calls, on real files: never a live state, the kill is
latched until a deactivation with a reason, and a refusal writes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nija.compat.backend import backend_for
from nija.compat.kill_switch import KillSwitch
from nija.compat.trading_state_machine import StateTransitionError, TradingState, TradingStateMachine
from nija.domain.errors import KillSwitchChangeRefused
from tests.compat.test_compat_run_stop import beating
from tests.runtime.runtime_helpers import wait_for

CALLS = st.lists(
    st.one_of(
        st.tuples(st.just("transition"), st.sampled_from(list(TradingState)), st.sampled_from(["", "why"])),
        st.tuples(st.just("activate"), st.sampled_from(["", "drill"]), st.just("")),
        st.tuples(st.just("deactivate"), st.sampled_from(["", "  ", "fixed"]), st.just("")),
        st.tuples(st.just("touch"), st.just(""), st.just("")),
        st.tuples(st.just("activate_live"), st.just(""), st.just("")),
    ),
    max_size=12,
)


# Written by others than the call: the store's lock, and the heartbeat that this process's
# bot run (the state machine) writes every second from its own thread.
NOT_THE_CALLS = (".nija.lock", ".nija_heartbeat.json")


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file() and not p.name.startswith(NOT_THE_CALLS)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CALLS)
def test_no_sequence_of_calls_reaches_live_or_loses_a_kill(calls: list[tuple[str, object, str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="nija-compat-") as name:
        try:
            run_calls(Path(name), calls)
        finally:  # its beats end before its directory is removed (a beat in between was a stray file)
            if not backend_for(name).stop_run():  # a beat still under way: it ends with the stopped one
                wait_for(lambda: not beating(Path(name)), what="the last beat written")


def run_calls(directory: Path, calls: list[tuple[str, object, str]]) -> None:
    ks = KillSwitch(directory)
    sm = TradingStateMachine(directory / ".nija_trading_state.json")
    killed = False
    for name, arg, reason in calls:
        before = files(directory)
        try:
            if name == "transition":
                assert isinstance(arg, TradingState)
                assert sm.transition_to(arg, reason) is True
                killed = killed or arg is TradingState.EMERGENCY_STOP
            elif name == "activate":
                ks.activate(str(arg))
                killed = True
            elif name == "deactivate":
                ks.deactivate(str(arg))
                killed = killed and not str(arg).strip()
            elif name == "touch":
                (directory / "EMERGENCY_STOP").touch()
                killed = True
            else:
                assert sm.activate_live_trading() is False
                assert sm.force_activate_live() is False
        except (StateTransitionError, KillSwitchChangeRefused):
            assert files(directory) == before  # a refusal writes nothing
        state = sm.get_current_state()
        assert not state.is_live
        assert sm.can_make_broker_calls() is False
        assert ks.is_active() is killed
        if killed:
            assert state is TradingState.EMERGENCY_STOP
            assert sm.is_trading_allowed() is False
