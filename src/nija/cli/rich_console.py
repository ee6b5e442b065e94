"""The rich console every command prints through on a terminal (``nija.cli.output`` writes
plain lines itself elsewhere): imported only when something is shown through rich."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

from nija.domain.text import printable


class SafeConsole(Console):
    """A console that cannot be made to emit a control sequence it did not style itself.

    Stored text (a reason hand-written into a file, a name from an older NIJA) may hold
    ESC, C1 or bidi controls: each is printed as a visible escape (``\x1b``), so no field
    can clear the screen or repaint another line (invariant 12). Rich's own styling and
    cursor segments are untouched; fields shown on one line are escaped further by the
    renderers (``printable``: newlines too)."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(printable(segment.text, multi_line=True), segment.style)
            for segment in buffer
        )


def console(*, stderr: bool = False) -> Console:
    # highlight=False: never recolour user-supplied reasons; markup=False: a reason holding
    # "[/]" or "[red]" is text, not markup; soft_wrap keeps lines intact.
    return SafeConsole(stderr=stderr, highlight=False, markup=False, soft_wrap=True)
