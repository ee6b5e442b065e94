"""The dialogs: ask for a reason, confirm a plan, read the full history."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Static

from nija.tui.render import kill_event_line, transition_line
from nija.views import HistoryView


class ReasonScreen(ModalScreen[str | None]):
    """Asks for a reason; Enter submits, Escape cancels (returns None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, hint: str) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.hint)
            yield Input(placeholder="reason", id="reason")
            yield Label("Enter: submit   Escape: cancel", classes="dim")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Shows what will happen and asks yes or no; anything but yes is no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
        Binding("k", "kill", "Decline and kill"),
    ]

    def __init__(self, title: str, body: Text | str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.body, id="confirm-body")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe answer is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def action_kill(self) -> None:
        """The kill key works here too: the plan is declined, then the kill asks why."""
        self.dismiss(False)
        self.app.call_later(self.app.run_action, "app.kill")


class HistoryScreen(Screen[None]):
    """The full trading state and kill switch history, newest last, scrollable."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("h", "close", "Back"),
        Binding("q", "close", "Back"),
        Binding("k", "app.kill", "Kill"),
    ]

    def __init__(self, history: HistoryView) -> None:
        super().__init__()
        self.history = history

    def compose(self) -> ComposeResult:
        text = Text().append("TRADING STATE HISTORY", "bold")
        for t in self.history.transitions:
            text.append("\n" + transition_line(t))
        if not self.history.transitions:
            text.append("\n(none)")
        text.append("\n\nKILL SWITCH HISTORY", "bold")
        for k in self.history.kill_switch:
            text.append("\n" + kill_event_line(k))
        if not self.history.kill_switch:
            text.append("\n(none)")
        with VerticalScroll(id="history-scroll"):
            yield Static(text, id="history-full")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history-scroll", VerticalScroll).scroll_end(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
