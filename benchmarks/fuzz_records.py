"""Mutated state and kill records through the real readers, the permission check and the
renderers: no input may trade on conflicting content, and none may crash.

Each case writes a mutated trading state record or kill switch record (the other stays a
valid seed) into a real data directory, then runs what every NIJA process runs on it:
``JsonFileStore.load``, a long-lived ``FilePermissionView.check`` (the bot's gate, with its
cache), the status diagnosis, the JSON views and the CLI's text and --json output.

Counted per case:
- trades on conflicting content: the gate allows trading although an independent strict
  reading of the same bytes would not (a duplicate key, bytes that are not UTF-8, a lone
  surrogate, NaN, a schema version other than 1, a kill record not exactly inactive, a
  state other than DRY_RUN or LIVE_ACTIVE);
- crashes: anything other than a clean read or a fail-closed one (an exception from the
  reader, the diagnosis or the output; a gate that answers CHECK_FAILED; a gate whose
  cached answer differs from a fresh decision);
- for scale: how many cases a lenient reading (``json.loads``, last key wins, any UTF
  encoding) would have let trade although the strict reading would not.

Run: python benchmarks/fuzz_records.py [CASES] [SEED]   (default 100,000 cases, seed 11)"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from nija.cli.render import SafeConsole, transition_line
from nija.cli.render import status as render_status
from nija.domain.diagnosis import report
from nija.domain.permission import decide
from nija.domain.records import TradingRecord
from nija.domain.text import json_for_terminal
from nija.store.json_files import KILL_STATE_FILE, STATE_FILE, JsonFileStore
from nija.views import status_view, to_json

T0 = "2026-11-30T09:00:00+00:00"
BOM = b"\xef\xbb\xbf"
TRADING = ("DRY_RUN", "LIVE_ACTIVE")


def _entry(src: str, dst: str, reason: str = "seed") -> dict[str, Any]:
    return {"from": src, "to": dst, "reason": reason, "timestamp": T0, "actor": "alice", "source": "cli"}


STATE_SEEDS = [
    {"current_state": "DRY_RUN", "history": [_entry("OFF", "DRY_RUN")], "last_updated": T0, "schema_version": 1},
    {"current_state": "EMERGENCY_STOP", "history": [_entry("DRY_RUN", "EMERGENCY_STOP")], "last_updated": T0},
    {"current_state": "OFF", "history": [], "last_updated": None},
    {
        "current_state": "LIVE_ACTIVE",
        "history": [_entry("LIVE_PENDING_CONFIRMATION", "LIVE_ACTIVE", "confirmed")],
        "last_updated": T0,
        "schema_version": 1,
    },
]
KILL_SEEDS = [
    {"is_active": False, "history": [], "last_updated": None, "schema_version": 1},
    {
        "is_active": True,
        "history": [{"action": "activate", "reason": "outage", "timestamp": T0, "source": "api", "actor": "bob"}],
        "last_updated": T0,
    },
]
# What makes the difference: values a duplicate or a replacement may bring in.
CONFLICTS: dict[str, list[Any]] = {
    "is_active": [True, False, 0, 1, "false", None],
    "current_state": ["DRY_RUN", "LIVE_ACTIVE", "EMERGENCY_STOP", "OFF", "dry_run", 7],
    "schema_version": [1, 0, -1, 2, True, 1.0, "1"],
    "from": ["OFF", "LIVE_PENDING_CONFIRMATION"],
    "to": ["LIVE_ACTIVE", "DRY_RUN"],
    "reason": ["x", "\ud800", "\x1b[2J", 5],
    "timestamp": [T0, "yesterday", 0, "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
    "last_updated": [T0, None, "9999-12-31T23:59:59-14:00", 5],
}
NASTY_STRINGS = [
    b"\\ud800",
    b"\\udfff",
    b"\xed\xa0\x80",
    b"\xff",
    b"\xc3",
    b"\\u001b[2J",
    b"\xc2\x9b",
    b"\\u202e",
    b"\x00",
]


# -- the independent strict reading (the oracle) ------------------------------------------------
class _Ambiguous(Exception):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise _Ambiguous("duplicate key")
    return dict(pairs)


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    return False


def strict_doc(raw: bytes | None) -> dict[str, Any] | None:
    """The document, {} for an absent file, or None when a strict reading finds no single meaning."""
    if raw is None:
        return {}
    raw = raw.removeprefix(BOM)
    try:
        text = raw.decode("utf-8")
        doc = json.loads(text, object_pairs_hook=_pairs, parse_constant=lambda c: (_ for _ in ()).throw(_Ambiguous(c)))
    except (ValueError, RecursionError, _Ambiguous):
        return None
    if not isinstance(doc, dict) or _has_lone_surrogate(doc):
        return None
    version = doc.get("schema_version", 1)
    if type(version) is not int or version != 1:
        return None
    return doc


def lenient_doc(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return {}
    try:
        doc = json.loads(raw)  # last key wins; UTF-16 and UTF-32 detected
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def may_trade(state: dict[str, Any] | None, kill: dict[str, Any] | None) -> bool:
    """A necessary condition for trading, on the documents alone."""
    if state is None or kill is None:
        return False
    return (kill == {} or kill.get("is_active") is False) and state.get("current_state") in TRADING


# -- mutations ---------------------------------------------------------------------------------
def _dump(doc: dict[str, Any], rng: random.Random) -> bytes:
    return json.dumps(doc, indent=rng.choice([None, 2]), ensure_ascii=rng.random() < 0.5).encode()


def dup_key(doc: dict[str, Any], rng: random.Random) -> bytes:
    """Repeat a key of the top-level object or of a history entry, with another value."""
    text = _dump(doc, rng).decode()
    key = rng.choice([k for k in CONFLICTS if f'"{k}"' in text] or ["is_active"])
    extra = f'"{key}": {json.dumps(rng.choice(CONFLICTS[key]))}'
    at = text.find(f'"{key}"') if rng.random() < 0.5 else text.rfind("}")
    if at <= 0:
        at = text.rfind("}")
        return (text[:at] + ", " + extra + text[at:]).encode()
    if text[at] == "}":
        return (text[:at] + ", " + extra + text[at:]).encode()
    return (text[:at] + extra + ", " + text[at:]).encode()


def replace_value(doc: dict[str, Any], rng: random.Random) -> bytes:
    copy = json.loads(json.dumps(doc))
    target = copy if not copy.get("history") or rng.random() < 0.6 else rng.choice(copy["history"])
    key = rng.choice(list(CONFLICTS))
    target[key] = rng.choice(CONFLICTS[key])
    try:
        return _dump(copy, rng)
    except UnicodeEncodeError:
        return json.dumps(copy).encode()


def reencode(doc: dict[str, Any], rng: random.Random) -> bytes:
    text = json.dumps(doc, ensure_ascii=False)
    encoding = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig", "latin-1"])
    return text.encode(encoding, errors="replace")


def nasty_string(doc: dict[str, Any], rng: random.Random) -> bytes:
    raw = _dump(doc, rng)
    quotes = [i for i, b in enumerate(raw) if b == ord('"')]
    at = rng.choice(quotes) + 1 if quotes else 0
    return raw[:at] + rng.choice(NASTY_STRINGS) + raw[at:]


def byte_noise(doc: dict[str, Any], rng: random.Random) -> bytes:
    raw = bytearray(_dump(doc, rng))
    for _ in range(rng.randint(1, 4)):
        if not raw:
            break
        at = rng.randrange(len(raw))
        action = rng.random()
        if action < 0.4:
            raw[at] = rng.randrange(256)
        elif action < 0.7:
            del raw[at]
        else:
            raw[at:at] = bytes([rng.choice(b'{}[]":,\\ 0tfn')])
    return bytes(raw)


def truncate(doc: dict[str, Any], rng: random.Random) -> bytes:
    raw = _dump(doc, rng)
    return raw[: rng.randrange(len(raw) + 1)]


def oddities(doc: dict[str, Any], rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"",
            b"null",
            b"[]",
            BOM + _dump(doc, rng),
            _dump(doc, rng).replace(b"false", b"NaN", 1),
            b"[" * 5000 + b"]" * 5000,
            _dump(doc, rng) + b" trailing",
            _dump(doc, rng).replace(b": ", b":" + b" " * 50, 1),
        ]
    )


MUTATORS: list[Callable[[dict[str, Any], random.Random], bytes]] = [
    dup_key,
    dup_key,
    replace_value,
    reencode,
    nasty_string,
    byte_noise,
    truncate,
    oddities,
]


# -- running -----------------------------------------------------------------------------------
@dataclass
class Figures:
    cases: int = 0
    clean_reads: int = 0
    fail_closed: int = 0
    allowed: int = 0
    trades_on_conflict: int = 0
    crashes: int = 0
    lenient_would_trade: int = 0
    duplicate_cases: int = 0
    by_mutator: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def run(cases: int, seed: int, directory: Path) -> Figures:
    rng = random.Random(seed)
    store = JsonFileStore(directory)
    gate = store.permission_view()  # one long-lived view, as in a bot: its cache is exercised too
    figures = Figures()
    paths = {STATE_FILE: directory / STATE_FILE, KILL_STATE_FILE: directory / KILL_STATE_FILE}
    for case in range(cases):
        state_raw: bytes | None = _dump(rng.choice(STATE_SEEDS), rng)
        kill_raw: bytes | None = _dump(rng.choice(KILL_SEEDS), rng) if rng.random() < 0.8 else None
        mutator = rng.choice(MUTATORS)
        if rng.random() < 0.5:
            state_raw = mutator(rng.choice(STATE_SEEDS), rng)
        else:
            kill_raw = mutator(rng.choice(KILL_SEEDS), rng)
        figures.by_mutator[mutator.__name__] += 1
        _write(paths[STATE_FILE], state_raw)
        _write(paths[KILL_STATE_FILE], kill_raw)
        figures.cases += 1
        strict_allows = may_trade(strict_doc(state_raw), strict_doc(kill_raw))
        if may_trade(lenient_doc(state_raw), lenient_doc(kill_raw)) and not strict_allows:
            figures.lenient_would_trade += 1
        if mutator is dup_key:
            figures.duplicate_cases += 1
        problem = _check(store, gate, strict_allows, figures)
        if problem and len(figures.examples) < 5:
            figures.examples.append(
                f"case {case} ({mutator.__name__}): {problem}: {state_raw!r:.200} {kill_raw!r:.200}"
            )
    return figures


def _check(store: JsonFileStore, gate: Any, strict_allows: bool, figures: Figures) -> str | None:
    try:
        snapshot = store.load()
        permission = gate.check()
        fresh = decide(snapshot)
        diagnosis = report(snapshot, snapshot_time(snapshot))
        _render(diagnosis, store.location)
    except Exception as exc:  # noqa: BLE001 - counting crashes is the point
        figures.crashes += 1
        return f"crash {type(exc).__name__}: {exc}"
    if permission.code == "CHECK_FAILED" or permission.allowed != fresh.allowed:
        figures.crashes += 1
        return f"gate {permission.code} disagrees with a fresh decision {fresh.code}"
    unreadable = not isinstance(snapshot.trading, TradingRecord) or snapshot.kill_active
    figures.fail_closed += unreadable
    figures.clean_reads += not unreadable
    if permission.allowed:
        figures.allowed += 1
        if not strict_allows:
            figures.trades_on_conflict += 1
            return f"trades ({permission.code}) where a strict reading would not"
    return None


def snapshot_time(_: object) -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, 30, 9, 5, tzinfo=UTC)


def _render(diagnosis: Any, location: str) -> None:
    """What ``nija status`` and ``nija status --json`` print, into memory."""
    out = SafeConsole(file=io.StringIO(), highlight=False, markup=False, soft_wrap=True, width=120)
    render_status(out, diagnosis, location)
    for entry in diagnosis.recent_history:
        transition_line(entry)
    json_for_terminal(json.dumps(to_json(status_view(diagnosis, location)), ensure_ascii=False)).encode("utf-8")
    out.file.getvalue().encode("utf-8")


def _write(path: Path, raw: bytes | None) -> None:
    """Replace atomically (a new inode, as NIJA's own writers do) or remove."""
    if raw is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + ".fuzz")
    tmp.write_bytes(raw)
    os.replace(tmp, path)


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - fast, private temp dir
    with tempfile.TemporaryDirectory(prefix="nija-fuzz-", dir=base) as directory:
        start = time.perf_counter()
        figures = run(cases, seed, Path(directory))
        elapsed = time.perf_counter() - start
    print(f"fuzz_records: {figures.cases:,} mutated records (seed {seed}) in {elapsed:.1f} s")
    print(f"  read cleanly: {figures.clean_reads:,}; failed closed (unreadable or killed): {figures.fail_closed:,}")
    print(f"  gate allowed trading: {figures.allowed:,}")
    print(f"  duplicate-key cases: {figures.duplicate_cases:,}")
    print(
        "  a lenient reading (last key wins, any UTF) would trade where strict would not: "
        f"{figures.lenient_would_trade:,}"
    )
    print(f"  TRADES ON CONFLICTING CONTENT: {figures.trades_on_conflict}")
    print(f"  CRASHES: {figures.crashes}")
    print("  by mutator: " + ", ".join(f"{k} {v:,}" for k, v in sorted(figures.by_mutator.items())))
    for example in figures.examples:
        print("  example: " + example)
    if figures.trades_on_conflict or figures.crashes:
        sys.exit(1)


if __name__ == "__main__":
    main()
