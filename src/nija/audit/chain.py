"""The record format of the hash-chained audit log: pure functions, no I/O.

One record is one line: a canonical JSON body (sorted keys, no spaces) that carries
``seq`` and ``prev`` (the hash of the record before), followed by its own hash:

    {"actor":..,"details":{..},"kind":..,"prev":"<64 hex>","reason":..,"seq":7,"source":..,"time":..}
    becomes the line  <body without its final "}">,"hash":"<sha256 of body>"}

Hashing the exact body bytes means verifying needs no re-serialisation, and any edited
byte, removed, inserted or reordered line breaks the chain at that line or the next."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nija.domain.events import Event

GENESIS = "0" * 64
_SUFFIX_HEAD = b',"hash":"'
_SUFFIX_LEN = len(_SUFFIX_HEAD) + 64 + 2  # ,"hash":"<64 hex>"}
_DECODER = json.JSONDecoder()
# Inside JSON strings every quote is escaped, so `,"seq":N,` only ever matches the real key.
_SEQ_FIELD = re.compile(rb',"seq":(\d+),')


@dataclass(frozen=True, slots=True)
class Head:
    """The last record the writer finished: the log must reach it, with this hash."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit log: the event, its place in the chain and the hash it follows."""

    seq: int
    kind: str
    actor: str
    source: str
    reason: str
    time: str  # ISO 8601 with offset, as written
    details: dict[str, str] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""
    scope: str = ""  # the fleet store's records name their bot ("@fleet", "@account:NAME"); files: ""

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.time)


class BadLine(ValueError):
    """A line that is not a well-formed record (the message says what is wrong)."""


def encode(event: Event, seq: int, prev: str, *, scope: str | None = None) -> tuple[bytes, str]:
    """The line (with its newline) for ``event`` as record ``seq``, and its hash. ``scope``
    (the fleet store's): the bot the record is about, hashed with the rest."""
    fields: dict[str, Any] = {} if scope is None else {"scope": scope}
    body = json.dumps(
        fields
        | {
            "actor": event.actor,
            "details": {str(k): str(v) for k, v in event.details.items()},
            "kind": str(event.kind),
            "prev": prev,
            "reason": event.reason,
            "seq": seq,
            "source": event.source,
            "time": event.timestamp.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    import hashlib  # OpenSSL loads only when the trail is written or checked

    digest = hashlib.sha256(body).hexdigest()
    return body[:-1] + _SUFFIX_HEAD + digest.encode() + b'"}\n', digest


def split(line: bytes) -> tuple[bytes, str]:
    """(body, stated hash) of one line without its newline; raises BadLine."""
    if len(line) <= _SUFFIX_LEN or not line.endswith(b'"}'):
        raise BadLine("not a complete audit record")
    cut = len(line) - _SUFFIX_LEN
    if line[cut : cut + len(_SUFFIX_HEAD)] != _SUFFIX_HEAD:
        raise BadLine("the record's hash field is missing or moved")
    # Not checked for hex here: a bad stated hash never equals a computed one.
    return line[:cut] + b"}", line[cut + len(_SUFFIX_HEAD) : -2].decode(errors="replace")


def link(body: bytes) -> tuple[int, str]:
    """(seq, prev) of a record's body: all that verification needs, without building a record."""
    try:
        raw = _DECODER.decode(body.decode())
        seq, prev = raw["seq"], raw["prev"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise BadLine(f"not a valid record ({type(exc).__name__})") from exc
    if type(seq) is not int or type(prev) is not str:
        raise BadLine("seq or prev has the wrong type")
    return seq, prev


def decode(line: bytes) -> AuditRecord:
    """Parse one line (hash not checked); raises BadLine."""
    return parse(*split(line))


def parse(body: bytes, stated: str) -> AuditRecord:
    try:
        raw: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadLine(f"not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise BadLine("not a JSON object")
    try:
        details = raw["details"]
        if not isinstance(details, dict) or not isinstance(raw["seq"], int):
            raise TypeError
        return AuditRecord(
            seq=raw["seq"],
            kind=str(raw["kind"]),
            actor=str(raw["actor"]),
            source=str(raw["source"]),
            reason=str(raw["reason"]),
            time=str(raw["time"]),
            details={str(k): str(v) for k, v in details.items()},
            prev=str(raw["prev"]),
            hash=stated,
            scope=str(raw.get("scope", "")),
        )
    except (KeyError, TypeError) as exc:
        raise BadLine("a required field is missing or has the wrong type") from exc


def digest(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


def is_torn(line: bytes) -> bool:
    """Whether a line (without its newline) lacks the hash suffix: a write cut short."""
    try:
        split(line)
    except BadLine:
        return True
    return False


def consumed_seq(line: bytes) -> int | None:
    """The sequence number a torn line was written with, if the cut left it readable."""
    found = _SEQ_FIELD.search(line)
    return int(found.group(1)) if found else None


def next_seq(last_whole: int, torn: list[bytes]) -> int:
    """The number after record ``last_whole`` and the torn lines that followed it: every torn
    line used up one number (the one it was written with), so no number is ever reused."""
    visible = [s for s in map(consumed_seq, torn) if s is not None]
    return max([last_whole + len(torn), *visible]) + 1
