"""The terminal control center: watch one bot's safety state and act on it.

The screen is redrawn when something changes (file events or the API's event stream),
not on a timer. A slow timer re-reads the status only because a bot's liveness
changes with time alone: a dead bot writes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from nija.domain.errors import NijaError
from nija.domain.text import printable
from nija.service import system_clock
from nija.tui import render
from nija.tui.backend import ActionResult, Backend, PlanView
from nija.tui.frame import Frame
from nija.tui.screens import ConfirmScreen, HistoryScreen, ReasonScreen
from nija.tui.words import fix_here

LIVENESS_REFRESH_S = 5.0

CSS = """
MainScreen { layout: vertical; }
#body { height: 1fr; }
.panel { height: auto; border: round $primary-darken-1; padding: 0 1; }
#status { border: round $accent; }
MainScreen.live #status { border: heavy red; border-title-color: red; border-title-style: bold; }
MainScreen.live Footer { background: darkred; }
#lower { height: auto; }
#lower > .panel { width: 1fr; height: auto; }
#book > Static { height: auto; }
#equity { height: 2; margin-top: 1; }
#history { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
#message { height: auto; min-height: 1; padding: 0 1; background: $boost; }
ModalScreen { align: center middle; }
.dialog { width: 76; max-width: 100%; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
.dialog-title { text-style: bold; }
.buttons { height: auto; align: center middle; }
.dim { color: $text-muted; }
"""


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        # On this screen only, so typing a reason in a dialog never triggers them.
        Binding("k", "app.kill", "Kill"),
        Binding("d", "app.deactivate", "Deactivate"),
        Binding("r", "app.recover('restore')", "Restore"),
        Binding("x", "app.recover('reset')", "Reset"),
        Binding("h", "app.history", "History"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static("Loading...", id="status", classes="panel")
            yield Static(id="history", classes="panel")
            with Horizontal(id="lower"):
                with Vertical(id="book", classes="panel"):
                    yield Static(id="runtime")
                    yield Sparkline([], id="equity")  # the run's equity after each fill
                yield Static(id="notices", classes="panel")
        yield Static(id="message")
        yield Footer()

    def on_mount(self) -> None:
        for name, title in (
            ("status", "Status"),
            ("history", "Recent history (h: all)"),
            ("book", "Orders, positions, P&L"),
            ("notices", "Denials and alerts"),
        ):
            self.query_one(f"#{name}").border_title = title

    def show(self, frame: Frame, now: datetime) -> None:
        # Inconsistencies sit in the status panel: always visible, even at 80x24.
        status = Text("\n").join([render.status_text(frame.status, now), render.issues_text(frame.status, keys=True)])
        history = render.history_text(frame.status.recent_history, heading=False)  # one line each (CSS)
        live = render.live_banner(frame.status) is not None
        self.set_class(live, "live")  # the web's red frame: the status border and the footer turn red
        self.query_one("#status").border_title = f"Status: {render.LIVE_BANNER}" if live else "Status"
        self.query_one("#status", Static).update(status)
        self.query_one("#history", Static).update(history)
        self.query_one("#runtime", Static).update(render.runtime_text(frame))
        curve = [p.equity for p in frame.runtime.equity_curve] if frame.runtime is not None else []
        sparkline = self.query_one("#equity", Sparkline)
        sparkline.data = curve
        sparkline.display = len(curve) >= 2
        self.query_one("#notices", Static).update(render.notices_text(frame))

    def say(self, text: Text) -> None:
        self.query_one("#message", Static).update(text)


class ControlCenter(App[None]):
    CSS = CSS
    TITLE = "NIJA control center"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        backend: Backend,
        *,
        liveness_refresh_s: float | None = LIVENESS_REFRESH_S,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.liveness_refresh_s = liveness_refresh_s
        self.clock = clock
        self.frame: Frame | None = None
        self.frames_shown = 0
        self.last_message = ""
        self.busy = False
        self.killing = False  # a kill dialog is open (a kill never waits for another action)
        self.watching = False  # True once changes by other processes are being followed
        self.main = MainScreen()

    def get_default_screen(self) -> Screen[None]:
        return self.main

    async def on_ready(self) -> None:
        # Ready, not mount: the main screen's panels exist only once it is composed.
        self.sub_title = self.backend.location
        await self.refresh_frame()
        self.watch_changes()
        if self.liveness_refresh_s:
            self.set_interval(self.liveness_refresh_s, self.refresh_frame)

    async def on_unmount(self) -> None:
        await self.backend.close()

    @work(group="watch", exit_on_error=False)
    async def watch_changes(self) -> None:
        try:
            async for _ in self.backend.changes():
                await self.refresh_frame()
                self.watching = True
        except (OSError, NijaError) as exc:
            self.refusal("Stopped watching for changes", exc)

    async def refresh_frame(self) -> None:
        try:
            frame = await self.backend.frame()
        except NijaError as exc:
            self.refusal("Cannot read the status", exc)
            return
        try:
            self.main.show(frame, self.clock())
        except NoMatches:  # the app is closing and its widgets are gone
            return
        self.frame = frame
        self.frames_shown += 1

    # -- messages ------------------------------------------------------------------
    def done(self, result: ActionResult) -> None:
        text = Text(printable(result.summary), "bold green")
        for line in result.details:
            text.append(f"\n{printable(line)}", "yellow")
        self._say(text)

    def refusal(self, what: str, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, NijaError) else str(exc)
        fix = fix_here(exc.action, exc.fix) if isinstance(exc, NijaError) else ""
        text = Text(f"REFUSED: {what}: ", "bold red").append(printable(message, multi_line=True), "red")
        if fix:
            text.append("\nFix: ", "bold").append(printable(fix, multi_line=True))
        self._say(text)

    def _say(self, text: Text) -> None:
        self.last_message = text.plain
        self.main.say(text)

    # -- actions -------------------------------------------------------------------
    async def _act(self, what: str, call: Callable[[], Awaitable[ActionResult]]) -> None:
        try:
            self.done(await call())
        except NijaError as exc:
            self.refusal(what, exc)
        await self.refresh_frame()

    @work(group="action", exit_on_error=False)
    async def action_kill(self) -> None:
        # Not claimed like the other actions: stopping trading must work while a plan or a
        # history is on screen (their dialogs decline themselves first; see screens.py).
        if self.killing:
            self.bell()
            return
        self.killing = True
        try:
            reason = await self.push_screen_wait(
                ReasonScreen("ACTIVATE THE KILL SWITCH", "Why? Every order stops at once, in every process.")
            )
            if reason is None:
                self._say(Text("Cancelled: nothing was done; the kill switch is unchanged"))
                return
            await self._act("Kill switch", lambda: self.backend.activate_kill(reason))
        finally:
            self.killing = False

    @work(group="action", exit_on_error=False)
    async def action_deactivate(self) -> None:
        if self._claim():
            try:
                try:  # what the operator sees as the dialog opens: a kill raised meanwhile is kept
                    seen = await self.backend.kill_seen()
                except NijaError as exc:
                    self.refusal("Deactivate", exc)
                    return
                reason = await self.push_screen_wait(
                    ReasonScreen("DEACTIVATE THE KILL SWITCH", "What was fixed? (required)")
                )
                if reason is None:
                    self._say(Text("Cancelled: nothing was done"))
                    return
                # An empty reason goes to the service, which refuses it with its own fix.
                if reason.strip():
                    body = Text(f"Reason: {printable(reason)}\n\nThe state becomes OFF; run restore (r) for DRY_RUN.")
                    if not await self.push_screen_wait(ConfirmScreen("Deactivate the kill switch?", body)):
                        self._say(Text("Declined: nothing was done"))
                        return
                await self._act("Deactivate", lambda: self.backend.deactivate_kill(reason, seen))
            finally:
                self.busy = False

    @work(group="action", exit_on_error=False)
    async def action_recover(self, action: str) -> None:
        if self._claim():
            try:
                await self._recover(action)
            finally:
                self.busy = False

    async def _recover(self, action: str) -> None:
        label = action.capitalize()
        try:
            plan = await self.backend.plan(action)
        except NijaError as exc:
            self.refusal(label, exc)
            await self.refresh_frame()
            return
        if not plan.nothing_to_do:
            title = "Safe restore to DRY_RUN?" if action == "restore" else "Reset to OFF (disable all trading)?"
            if not await self.push_screen_wait(ConfirmScreen(title, plan_text(plan))):
                self._say(Text("Declined: nothing was done"))
                return
        await self._act(label, lambda: self.backend.apply(plan))

    @work(group="action", exit_on_error=False)
    async def action_history(self) -> None:
        try:
            history = await self.backend.history()
        except NijaError as exc:
            self.refusal("History", exc)
            return
        await self.push_screen_wait(HistoryScreen(history))

    def _claim(self) -> bool:
        if self.busy:
            self.bell()
            return False
        self.busy = True
        self._say(Text(""))
        return True


def plan_text(plan: PlanView) -> Text:
    text = Text().append(f"Plan: {printable(plan.path)}", "bold")
    for number, step in enumerate(plan.steps, 1):
        text.append(f"\n  {number}. {printable(step)}")
    for warning in plan.warnings:
        text.append(f"\nWARNING: {printable(warning)}", "yellow")
    if plan.action == "restore":
        text.append("\n\nThis never enables LIVE trading: DRY_RUN simulates every order.")
    return text
