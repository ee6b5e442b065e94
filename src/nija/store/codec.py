"""Records to and from the guide's JSON formats.

Decoding is strict about what matters (states, booleans, timestamps, one meaning per
key: see ``strict_json``) and lenient about extra keys, which are kept and written back
when a record is rewritten. Kill history keeps the original bot's meaning: its readers
take an entry with a ``source`` key for an activation, so deactivations are written
without one (their source goes in ``via``), and an entry without ``action`` is read the
way the original reads it. Naive timestamps, as in the guide's examples, are read as
UTC; writers always emit ISO 8601 with an offset. Anything off raises ``DecodeError``,
which the store turns into an ``Unreadable`` record (fail closed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from nija.domain.records import (
    Heartbeat,
    KillAction,
    KillEvent,
    KillRecord,
    LiveGrant,
    PendingLive,
    TradingRecord,
    Transition,
)
from nija.domain.states import parse_state
from nija.store import strict_json

SCHEMA_VERSION = 1
R = TypeVar("R")


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
            | {k: v for k, v in _kept(t.unknown).items() if k not in _TRANSITION_KEYS}
            for t in record.history
        ],
        "last_updated": _iso(record.last_updated),
        "schema_version": SCHEMA_VERSION,
    }
    if record.pending_live is not None:
        doc["pending_live"] = pending_doc(record.pending_live)
    if record.live_grant is not None:
        doc["live_grant"] = grant_doc(record.live_grant)
    return _dump(_with_kept(doc, record.unknown))


def decode_trading(raw: bytes) -> TradingRecord:
    doc = _load_object(raw)
    _check_schema(doc)
    state = _state(_field(doc, "current_state", str))
    history = tuple(_transition(i, entry) for i, entry in enumerate(_field(doc, "history", list, [])))
    pending = _optional(doc, "pending_live", pending_from)
    grant = _optional(doc, "live_grant", grant_from)
    return TradingRecord(
        state, history, _optional_time(doc, "last_updated"), pending, grant, _unknown(doc, _TRADING_KEYS)
    )


def pending_doc(p: PendingLive) -> dict[str, Any]:
    """Shared with the PostgreSQL store (a jsonb column holds the same document)."""
    return {
        "code_commitment": p.code_hash,
        "requested_by": p.requested_by,
        "requested_principal": p.requested_principal,
        "requested_at": p.requested_at.isoformat(),
        "expires_at": p.expires_at.isoformat(),
        "run_id": p.run_id,
        "nonce": p.nonce,
        "wrong_codes": p.wrong_codes,
    }


def pending_from(doc: dict[str, Any]) -> PendingLive:
    """Requests written by an older NIJA (``code_sha256``, no run) decode, but cannot be confirmed."""
    return PendingLive(
        code_hash=_field(doc, "code_commitment", str, ""),
        requested_by=_field(doc, "requested_by", str),
        requested_at=_time(_field(doc, "requested_at", str), "pending_live.requested_at"),
        expires_at=_time(_field(doc, "expires_at", str), "pending_live.expires_at"),
        run_id=_field(doc, "run_id", str, ""),
        nonce=_field(doc, "nonce", str, ""),
        requested_principal=_field(doc, "requested_principal", str, ""),
        wrong_codes=_field(doc, "wrong_codes", int, 0),
    )


def grant_doc(g: LiveGrant) -> dict[str, Any]:
    return {
        "run_id": g.run_id,
        "nonce": g.nonce,
        "proof": g.proof,
        "confirmed_by": g.confirmed_by,
        "confirmed_principal": g.confirmed_principal,
        "confirmed_at": g.confirmed_at.isoformat(),
    }


def grant_from(doc: dict[str, Any]) -> LiveGrant:
    return LiveGrant(
        run_id=_field(doc, "run_id", str),
        nonce=_field(doc, "nonce", str),
        proof=_field(doc, "proof", str),
        confirmed_by=_field(doc, "confirmed_by", str),
        confirmed_principal=_field(doc, "confirmed_principal", str),
        confirmed_at=_time(_field(doc, "confirmed_at", str), "live_grant.confirmed_at"),
    )


def _optional(doc: dict[str, Any], key: str, build: Callable[[dict[str, Any]], R]) -> R | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DecodeError(f"'{key}' must be an object")
    return build(value)


def encode_kill(record: KillRecord) -> bytes:
    history = []
    for e in record.history:
        entry: dict[str, Any] = {"reason": e.reason, "timestamp": e.timestamp.isoformat()}
        if e.action is not None:
            entry["action"] = str(e.action)
        if e.action is KillAction.DEACTIVATE:
            entry["via"] = e.source  # no "source": the original bot would read an activation
        else:
            entry["source"] = e.source
        entry["actor"] = e.actor
        if e.repeated:
            entry["repeated"] = True
        history.append(_with_kept(entry, e.unknown))
    doc = {
        "is_active": record.is_active,
        "history": history,
        "last_updated": _iso(record.last_updated),
        "schema_version": SCHEMA_VERSION,
    }
    return _dump(_with_kept(doc, record.unknown))


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
            # No action: the original bot's entry, an activation exactly when it has a source.
            action = KillAction(action_text) if action_text is not None else _original_meaning(entry)
        except ValueError:
            raise DecodeError(f"{where}.action must be 'activate' or 'deactivate'") from None
        events.append(
            KillEvent(
                action,
                _field(entry, "reason", str),
                _time(_field(entry, "timestamp", str), f"{where}.timestamp"),
                _text(entry, "source" if "source" in entry else "via"),
                _text(entry, "actor"),
                _field(entry, "repeated", bool, False),
                _unknown(entry, _KILL_EVENT_KEYS),
            )
        )
    return KillRecord(active, tuple(events), _optional_time(doc, "last_updated"), _unknown(doc, _KILL_KEYS))


def encode_heartbeat(beat: Heartbeat) -> bytes:
    return _dump(
        {
            "pid": beat.pid,
            "host": beat.host,
            "last_beat": beat.last_beat.isoformat(),
            "started_at": beat.started_at.isoformat(),
            "stopped": beat.stopped,
            "run_id": beat.run_id,
            "dry_run_seconds": beat.dry_run_s,
            "seen_nonce": beat.seen_nonce,
            "live_nonce": beat.live_nonce,
            "live_refused": beat.live_refused,
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
        run_id=_field(doc, "run_id", str, ""),
        dry_run_s=_seconds(doc.get("dry_run_seconds", 0.0)),
        seen_nonce=_field(doc, "seen_nonce", str, ""),
        live_nonce=_field(doc, "live_nonce", str, ""),
        live_refused=_field(doc, "live_refused", str, ""),
    )


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise DecodeError("'dry_run_seconds' must be a number of seconds")
    return float(value)


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
        _unknown(entry, _TRANSITION_KEYS),
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


# -- keys NIJA does not know: kept as read, written back on every rewrite -------------
_TRADING_KEYS = frozenset({"current_state", "history", "last_updated", "schema_version", "pending_live", "live_grant"})
_TRANSITION_KEYS = frozenset({"from", "to", "reason", "timestamp", "actor", "source"})
_KILL_KEYS = frozenset({"is_active", "history", "last_updated", "schema_version"})
_KILL_EVENT_KEYS = frozenset({"reason", "timestamp", "action", "source", "via", "actor", "repeated"})


def _original_meaning(entry: dict[str, Any]) -> KillAction:
    return KillAction.ACTIVATE if "source" in entry else KillAction.DEACTIVATE


def _unknown(doc: dict[str, Any], known: frozenset[str]) -> str:
    extra = {k: v for k, v in doc.items() if k not in known}
    return json.dumps(extra, ensure_ascii=False) if extra else ""


def _kept(unknown: str) -> dict[str, Any]:
    if not unknown:
        return {}
    kept = json.loads(unknown)
    return kept if isinstance(kept, dict) else {}


def _with_kept(doc: dict[str, Any], unknown: str) -> dict[str, Any]:
    """``doc`` with the unknown keys after it; a known key is never overridden by one."""
    return doc | {k: v for k, v in _kept(unknown).items() if k not in doc}
