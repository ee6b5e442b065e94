"""Command output, through rich only where rich would change what is written.

rich costs about as much to import as the rest of ``status`` together. Off a terminal (a
pipe, a file, a test runner) rich writes a line's text unchanged, apart from a few cases;
``Out`` writes such lines itself, byte for byte what rich would, and hands everything else
to rich: a terminal or anything that makes rich colour (FORCE_COLOR, TTY_COMPATIBLE,
Jupyter), Windows, an encoding other than UTF-8, and the lines rich alters (a tab it expands,
the control codes it strips, an emoji code it replaces in a ``str``). Either way every
character is shown safely (``printable``, as ``SafeConsole`` does)."""

from __future__ import annotations

import builtins
import codecs
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from nija.domain.text import json_for_terminal, printable

if TYPE_CHECKING:
    from rich.console import Console

Part = str | tuple[str, str]  # text, or (text, rich style)

# What rich alters in text it prints off a terminal: tabs (expanded by cell width) and the
# control codes its Text strips (bell, backspace, vertical tab, form feed, carriage return).
_RICH_ALTERS = frozenset("\t\x07\x08\x0b\x0c\x0d")


class Out:
    """``text``: rich's ``print(Text.assemble(*parts, style=style))``; ``print``: rich's
    ``print(text, style=style)``, on the console of ``console()`` (or the one given)."""

    def __init__(self, console: Console | None = None, *, stderr: bool = False) -> None:
        self._console = console
        self._stderr = stderr
        # As rich decides colours: once, when the console is made.
        self._direct = console is None and _uncoloured(self._stream())

    def text(self, *parts: Part, style: str = "") -> None:
        plain = "".join(part if isinstance(part, str) else part[0] for part in parts)
        if self._direct and _RICH_ALTERS.isdisjoint(plain):
            self._write(plain)
            return
        from rich.text import Text

        self.rich().print(Text.assemble(*parts, style=style))

    def print(self, text: str, style: str | None = None) -> None:
        if self._direct and not _may_hold_emoji_code(text) and _RICH_ALTERS.isdisjoint(text):
            self._write(text)
            return
        self.rich().print(text, style=style)

    def rich(self) -> Console:
        if self._console is None:
            from nija.cli.rich_console import console

            self._console = console(stderr=self._stderr)
        return self._console

    def _stream(self) -> object:
        return sys.stderr if self._stderr else sys.stdout

    def _write(self, text: str) -> None:
        stream = self._stream()
        stream.write(printable(text, multi_line=True) + "\n")  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]


def echo(text: str, *, err: bool = False) -> None:
    """One line, as ``click.echo`` writes it (the text, a newline, a flush), without loading
    click: a stream the locale left at ASCII gets UTF-8 bytes, as click gives it, and any
    other encoding is used as it is. ``text`` must already be safe to show (``printable``,
    ``json_for_terminal``)."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # no console at all (pythonw): nowhere to write, as click.echo
        return
    data = text + "\n"
    binary = getattr(stream, "buffer", None)
    if binary is not None and _ascii(getattr(stream, "encoding", None) or "ascii"):
        stream.flush()
        binary.write(data.encode("utf-8", "replace"))
        binary.flush()
        return
    stream.write(data)
    stream.flush()


def _ascii(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "ascii"
    except LookupError:
        return False


def print_json(data: Any) -> None:
    """JSON as ever (UTF-8, the same values), with every control character escaped."""
    echo(json_for_terminal(json.dumps(data, indent=2, ensure_ascii=False)))


def _may_hold_emoji_code(text: str) -> bool:
    """rich replaces ":name:" (no whitespace inside) in a str; between two colons a space
    rules it out."""
    return any(" " not in between for between in text.split(":")[1:-1])


def _uncoloured(stream: object) -> bool:
    """True where rich would write no style at all to ``stream`` (rich's own tests, kept
    narrow: any doubt leaves the output to rich)."""
    if sys.platform == "win32" or hasattr(builtins, "get_ipython"):
        return False
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    encoding = getattr(stream, "encoding", None)
    if isatty is None or not isinstance(encoding, str) or not hasattr(stream, "write"):
        return False
    try:
        if isatty():
            return False
        return codecs.lookup(encoding).name == "utf-8"
    except (ValueError, LookupError):
        return False
