"""Data directories in the states the recovery guide describes, shared by the front ends' tests."""

from __future__ import annotations

import json
from pathlib import Path

from nija.assembly import build_service
from nija.domain.transitions import Who

OPERATOR = Who("operator@test", "cli")


def stopped_without_kill(data_dir: Path) -> None:
    """The guide's case: EMERGENCY_STOP with the kill switch off (a kill raised and lifted,
    then the state file edited back to the stop)."""
    service = build_service(data_dir)
    service.activate_kill("stop", OPERATOR)
    service.deactivate_kill("fixed", OPERATOR)
    state = json.loads((data_dir / ".nija_trading_state.json").read_text())
    state["current_state"] = "EMERGENCY_STOP"
    state["history"].append({"from": "OFF", "to": "EMERGENCY_STOP", "reason": "x", "timestamp": state["last_updated"]})
    (data_dir / ".nija_trading_state.json").write_text(json.dumps(state))
