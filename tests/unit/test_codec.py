"""The guide's file formats: read exactly as shown, written with offsets, extra keys kept apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from nija.domain.records import KillAction
from nija.domain.states import TradingState
from nija.store import codec

GUIDE_STATE = b"""{
"current_state": "DRY_RUN",
"history": [
{
"from": "OFF",
"to": "DRY_RUN",
"reason": "Safe recovery: Enabling simulation mode",
"timestamp": "2026-02-17T22:01:15.133111"
}
],
"last_updated": "2026-02-17T22:01:15.133120"
}"""

GUIDE_KILL = b"""{
"is_active": false,
"history": [
{
"reason": "Manual deactivation",
"timestamp": "2026-02-17T21:00:00.000000"
}
],
"last_updated": "2026-02-17T21:00:00.000000"
}"""


def test_guide_state_file_reads_with_naive_times_as_utc() -> None:
    record = codec.decode_trading(GUIDE_STATE)
    assert record.current_state is TradingState.DRY_RUN
    entry = record.history[0]
    assert (entry.from_state, entry.to_state) == (TradingState.OFF, TradingState.DRY_RUN)
    assert entry.timestamp == datetime(2026, 2, 17, 22, 1, 15, 133111, tzinfo=UTC)


def test_guide_kill_file_reads_legacy_entries_without_action() -> None:
    record = codec.decode_kill(GUIDE_KILL)
    assert record.is_active is False
    assert record.history[0].action is KillAction.DEACTIVATE  # no source: the original reads a deactivation
    assert record.last_activation is None


def test_round_trip_keeps_the_guide_keys_and_writes_offsets() -> None:
    record = codec.decode_trading(GUIDE_STATE)
    doc = json.loads(codec.encode_trading(record))
    assert {"current_state", "history", "last_updated"} <= set(doc)
    assert doc["history"][0]["timestamp"].endswith("+00:00")
    assert codec.decode_trading(codec.encode_trading(record)) == record
    kill = codec.decode_kill(GUIDE_KILL)
    assert codec.decode_kill(codec.encode_kill(kill)) == kill


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"[]", "expected a JSON object"),
        (b'{"history": []}', "missing key 'current_state'"),
        (b'{"current_state": "LIVE"}', "unknown trading state"),
        (b'{"current_state": "OFF", "history": {}}', "'history' must be list"),
        (b'{"current_state": "OFF", "history": [{"from": "OFF"}]}', "missing key 'to'"),
        (b'{"current_state": "OFF", "schema_version": 2}', "newer"),
    ],
)
def test_bad_state_documents_name_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(codec.DecodeError, match=message):
        codec.decode_trading(raw)


def test_kill_is_active_must_be_a_real_boolean() -> None:
    with pytest.raises(codec.DecodeError, match="'is_active' must be bool"):
        codec.decode_kill(b'{"is_active": 1, "history": []}')
    record = codec.decode_kill(
        b'{"is_active": true, "history": [{"action": "activate", "reason": "r", '
        b'"timestamp": "2026-01-01T00:00:00+00:00"}]}'
    )
    assert record.last_activation is not None
    assert record.last_activation.action is KillAction.ACTIVATE
