"""Free text from people and files: what may be stored, and how stored text is shown.

Invariant 12: free text (reasons, actors, names) can never change what a terminal or a
page shows beyond its own field. New text with control characters is refused where it
enters (``check_reason``, ``check_name``); text already stored (hand-written files, an
older NIJA) is shown with those characters as visible escapes (``printable``).

Unsafe are: C0 controls (ESC among them) except newline and tab in reasons, DEL and the
C1 controls (U+0080-U+009F; U+009B is a one-byte CSI to many terminals), the Unicode
bidirectional controls (overrides, embeddings, isolates, marks: they reorder what follows
them), the line and paragraph separators, and lone surrogates (no encoder can write them).
"""

from __future__ import annotations

import functools
import re

from nija.domain.errors import UnsafeText

_ALWAYS = (
    "\x00-\x08\x0b-\x1f"  # C0 without tab (09) and newline (0a)
    "\x7f-\x9f"  # DEL and C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # Bidi_Control
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff"  # lone surrogates (a str can only hold them unpaired)
)


@functools.cache
def _unsafe(multi_line: bool) -> re.Pattern[str]:
    # Compiled on first use (a few ms for these classes): most text is printable and never needs it.
    return re.compile(f"[{_ALWAYS}]" if multi_line else f"[{_ALWAYS}\t\n]")


def find_unsafe(value: str, *, multi_line: bool = False) -> int | None:
    """Index of the first unsafe character; newline and tab count only if not ``multi_line``."""
    if value.isprintable():  # every unsafe character is of a non-printable category (Cc, Cf, Zl, Zp, Cs)
        return None
    found = _unsafe(multi_line).search(value)
    return None if found is None else found.start()


def escape(char: str) -> str:
    """The visible form of one character: ``\\x1b``, ``\\u202e``, ``\\n``."""
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: str, *, multi_line: bool = False) -> str:
    """``value`` with every unsafe character shown as its escape, for any output.

    One-line by default: a newline in a reason shown on a status line would paint a line
    of its own (say "Can Trade: NO") under the real one."""
    if value.isprintable():
        return value
    return _unsafe(multi_line).sub(lambda m: escape(m.group()), value)


def json_for_terminal(document: str) -> str:
    """A JSON document with each unsafe character inside its strings written as a ``\\uXXXX``
    escape: the same JSON values, but safe to print (``json.dumps(ensure_ascii=False)``
    escapes C0 itself but leaves C1, bidi controls and separators raw). Outside strings
    JSON holds only ASCII, so the newlines left are the document's own."""
    return _unsafe(True).sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def check_reason(value: str, what: str = "reason") -> str:
    """A reason may span lines (newline, tab) but holds no other control character."""
    _check(value, what, multi_line=True)
    return value


def check_name(value: str, what: str = "name") -> str:
    """Actors, bot and token names are one line: no control character at all."""
    _check(value, what, multi_line=False)
    return value


def _check(value: str, what: str, *, multi_line: bool) -> None:
    at = find_unsafe(value, multi_line=multi_line)
    if at is None:
        return
    allowed = "newline and tab are the only control characters allowed" if multi_line else "it must be one line"
    raise UnsafeText(
        f"The {what} contains the control character {escape(value[at])} at position {at}: "
        "control characters, escape sequences and bidirectional overrides could repaint an "
        "operator's terminal, so nothing was done",
        f"Send the {what} again as plain text ({allowed})",
    )
