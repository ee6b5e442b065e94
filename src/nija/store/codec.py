"""Records to and from the guide's JSON formats.

Decoding is strict about what matters (states, booleans, timestamps, one meaning per
key: see ``strict_json``) and lenient about extra keys. Naive timestamps, as in the
guide's examples, are read as UTC; writers always emit ISO 8601 with an offset.
Anything off raises ``DecodeError``, which the store turns into an ``Unreadable`` record (fail closed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from nija.domain.records import (
    Heartbeat,
    KillAction,
    KillEvent,
    KillRecord,
    PendingLive,
    TradingRecord,
    Transition,
)
from nija.domain.states import parse_state
from nija.store import strict_json

SCHEMA_VERSION = 1


class DecodeError(ValueError):
    pass


def encode_trading(record: TradingRecord) -> bytes:
    doc: dict[str, Any] = {
        "current_state": str(record.current_state),
        "history": [
            {
                "from": str(t.from_state),
                "to": str(t.to_state),
                "reason": t.reason,
                "timestamp": t.timestamp.isoformat(),
                "actor": t.actor,
                "source": t.source,
            }
            for t in record.history
        ],
        "last_updated": _iso(record.last_updated),
        "schema_version": SCHEMA_VERSION,
    }
    if record.pending_live is not None:
        p = record.pending_live
        doc["pending_live"] = {
            "code_sha256": p.code_hash,
            "requested_by": p.requested_by,
            "requested_at": p.requested_at.isoformat(),
            "expires_at": p.expires_at.isoformat(),
        }
    return _dump(doc)


def decode_trading(raw: bytes) -> TradingRecord:
    doc = _load_object(raw)
    _check_schema(doc)
    state = _state(_field(doc, "current_state", str))
    history = tuple(_transition(i, entry) for i, entry in enumerate(_field(doc, "history", list, [])))
    pending_doc = doc.get("pending_live")
    pending = None
    if pending_doc is not None:
        if not isinstance(pending_doc, dict):
            raise DecodeError("'pending_live' must be an object")
        pending = PendingLive(
            code_hash=_field(pending_doc, "code_sha256", str),
            requested_by=_field(pending_doc, "requested_by", str),
            requested_at=_time(_field(pending_doc, "requested_at", str), "pending_live.requested_at"),
            expires_at=_time(_field(pending_doc, "expires_at", str), "pending_live.expires_at"),
        )
    return TradingRecord(state, history, _optional_time(doc, "last_updated"), pending)


def encode_kill(record: KillRecord) -> bytes:
    history = []
    for e in record.history:
        entry: dict[str, Any] = {"reason": e.reason, "timestamp": e.timestamp.isoformat()}
        if e.action is not None:
            entry["action"] = str(e.action)
        entry.update(source=e.source, actor=e.actor)
        history.append(entry)
    doc = {
        "is_active": record.is_active,
        "history": history,
        "last_updated": _iso(record.last_updated),
        "schema_version": SCHEMA_VERSION,
    }
    return _dump(doc)


def decode_kill(raw: bytes) -> KillRecord:
    doc = _load_object(raw)
    _check_schema(doc)
    active = _field(doc, "is_active", bool)
    events = []
    for i, entry in enumerate(_field(doc, "history", list, [])):
        where = f"history[{i}]"
        if not isinstance(entry, dict):
            raise DecodeError(f"{where} must be an object")
        action_text = entry.get("action")
        try:
            action = None if action_text is None else KillAction(action_text)
        except ValueError:
            raise DecodeError(f"{where}.action must be 'activate' or 'deactivate'") from None
        events.append(
            KillEvent(
                action,
                _field(entry, "reason", str),
                _time(_field(entry, "timestamp", str), f"{where}.timestamp"),
                _text(entry, "source"),
                _text(entry, "actor"),
            )
        )
    return KillRecord(active, tuple(events), _optional_time(doc, "last_updated"))


def encode_heartbeat(beat: Heartbeat) -> bytes:
    return _dump(
        {
            "pid": beat.pid,
            "host": beat.host,
            "last_beat": beat.last_beat.isoformat(),
            "started_at": beat.started_at.isoformat(),
            "stopped": beat.stopped,
        }
    )


def decode_heartbeat(raw: bytes) -> Heartbeat:
    doc = _load_object(raw)
    return Heartbeat(
        pid=_field(doc, "pid", int),
        host=_field(doc, "host", str),
        last_beat=_time(_field(doc, "last_beat", str), "last_beat"),
        started_at=_time(_field(doc, "started_at", str), "started_at"),
        stopped=_field(doc, "stopped", bool, False),
    )


def _dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def _load_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise DecodeError("the file is empty")
    try:
        doc = strict_json.loads(raw)
    except strict_json.StrictJsonError as exc:
        raise DecodeError(str(exc)) from None
    if not isinstance(doc, dict):
        raise DecodeError(f"expected a JSON object, found {type(doc).__name__}")
    return doc


def _check_schema(doc: dict[str, Any]) -> None:
    version = doc.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DecodeError(f"schema_version {json.dumps(version)[:40]} is not a version (versions are 1, 2, ...)")
    if version > SCHEMA_VERSION:
        raise DecodeError(f"schema_version {version} is newer than this NIJA understands")


_MISSING = object()


def _field(doc: dict[str, Any], key: str, kind: type[Any], default: Any = _MISSING) -> Any:
    if key not in doc:
        if default is _MISSING:
            raise DecodeError(f"missing key '{key}'")
        return default
    value = doc[key]
    # bool is an int subclass: a pid of `true` or an is_active of `1` is wrong either way.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DecodeError(f"'{key}' must be {kind.__name__}, found {type(value).__name__}")
    return value


def _text(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key, "unknown")
    return value if isinstance(value, str) else str(value)


def _state(text: str) -> Any:
    try:
        return parse_state(text)
    except ValueError as exc:
        raise DecodeError(str(exc)) from None


def _transition(index: int, entry: Any) -> Transition:
    where = f"history[{index}]"
    if not isinstance(entry, dict):
        raise DecodeError(f"{where} must be an object")
    return Transition(
        _state(_field(entry, "from", str)),
        _state(_field(entry, "to", str)),
        _field(entry, "reason", str),
        _time(_field(entry, "timestamp", str), f"{where}.timestamp"),
        _text(entry, "actor"),
        _text(entry, "source"),
    )


def _time(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise DecodeError(f"{where} is not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _optional_time(doc: dict[str, Any], key: str) -> datetime | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DecodeError(f"'{key}' must be a time string")
    return _time(value, key)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
