"""Strict JSON for records: one meaning per file, or no meaning at all.

Python's ``json`` is lenient where a safety record must not be: a duplicate key is read
last-wins (``{"is_active": true, "is_active": false}`` would trade while another reader
sees a kill), bytes in UTF-16 or UTF-32 are detected and accepted, ``NaN`` is a number,
and ``"\\ud800"`` yields a string no encoder can print. Each of these raises
``StrictJsonError`` here, which the codec turns into an unreadable record (fail closed)."""

from __future__ import annotations

import json
import re
from typing import Any

_BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark: harmless, written by some editors
# Any \uD800-\uDFFF escape: pairs are fine, and only then is the slower full check needed.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class StrictJsonError(ValueError):
    pass


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def loads(raw: bytes) -> Any:
    """The JSON value in ``raw`` (UTF-8, optionally with a BOM), refusing every ambiguity."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        text = raw.decode("utf-8")  # strict: invalid bytes, encoded surrogates (ED A0 80), UTF-16
    except UnicodeDecodeError as exc:
        raise StrictJsonError(
            f"not UTF-8 (byte {exc.start} is {raw[exc.start : exc.start + 1].hex()}): records are UTF-8 JSON"
        ) from None
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _DuplicateKey as dup:
        raise StrictJsonError(f"the key {json.dumps(dup.key)} appears twice in one object") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, deep nesting
        raise StrictJsonError(f"not valid JSON: {str(exc)[:200]}") from None
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return doc


def _no_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a JSON number")


def _refuse_lone_surrogates(value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start]
        raise StrictJsonError(f"a string holds the lone surrogate \\u{ord(bad):04x}, which is not text") from None
