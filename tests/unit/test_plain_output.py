"""Off a terminal ``Out`` writes lines itself instead of through rich (``nija.cli.output``):
the bytes must be exactly those rich's console writes, for any text. Both are run on real
UTF-8 streams and compared; a terminal or FORCE_COLOR leaves every line to rich."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nija.cli.output import Out
from nija.cli.rich_console import SafeConsole
from nija.domain.text import find_unsafe

# What rich treats specially, made frequent: tabs, the codes it strips, emoji codes, markup, wide text.
SPECIAL = st.sampled_from(
    ["\t", "\r", "\x07", "\x0b", "\x1b", "\x9b", "\u202e", "\n", ":", ":smile:", "[b]", "中", "🚀"]
)
TEXT = st.lists(SPECIAL | st.characters(exclude_categories=["Cs"]), max_size=25).map("".join)
STYLE = st.sampled_from(["", "bold", "bold red", "dim"])
Line = tuple[str, tuple[str | tuple[str, str], ...], str]  # "text" or "print", its parts, its style


def stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="\n")


def written(target: io.TextIOWrapper) -> bytes:
    target.flush()
    raw = target.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue()


def both(draw: list[Line]) -> tuple[bytes, bytes]:
    """The same lines through a direct ``Out`` and through rich's console (no terminal)."""
    direct_stream, rich_stream = stream(), stream()
    with contextlib.redirect_stdout(direct_stream):
        direct = Out()
        rich = Out(SafeConsole(file=rich_stream, highlight=False, markup=False, soft_wrap=True))
        for kind, parts, style in draw:
            for out in (direct, rich):
                if kind == "text":
                    out.text(*parts, style=style)
                else:
                    out.print("".join(p if isinstance(p, str) else p[0] for p in parts), style=style or None)
    return written(direct_stream), written(rich_stream)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["text", "print"]),
            st.lists(TEXT | st.tuples(TEXT, STYLE), min_size=1, max_size=3).map(tuple),
            STYLE,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_direct_lines_are_byte_for_byte_what_rich_writes(lines: list[Line]) -> None:
    direct, rich = both(lines)
    assert direct == rich


def test_a_plain_status_line_is_written_without_rich() -> None:
    target = stream()
    with contextlib.redirect_stdout(target):
        out = Out()
        out.text("Kill Switch Active: ", ("✅ NO", "green"))
        out.print("Kill File Exists: False")
    assert written(target) == "Kill Switch Active: ✅ NO\nKill File Exists: False\n".encode()
    assert out._console is None  # rich was never needed


@pytest.mark.parametrize("env", ["FORCE_COLOR", "TTY_COMPATIBLE"])
def test_what_makes_rich_colour_leaves_the_line_to_rich(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env, "1")
    target = stream()
    with contextlib.redirect_stdout(target):
        Out().text(("STOP", "bold red"))
    assert written(target) == b"\x1b[1;31mSTOP\x1b[0m\n"  # coloured, as rich does for FORCE_COLOR


def test_every_unsafe_character_is_non_printable() -> None:
    """``printable`` and ``find_unsafe`` skip the regex for ``str.isprintable()`` text: that is
    sound only if no unsafe character is printable (checked over all of Unicode)."""
    unsafe_printable = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if chr(code).isprintable() and find_unsafe(chr(code) + "\x00", multi_line=True) == 0
    ]
    assert unsafe_printable == []
