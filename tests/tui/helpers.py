"""Driving the control center with Textual's pilot on a real data directory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from nija.tui.app import ControlCenter
from nija.tui.local import LocalBackend

SIZE = (80, 24)
PATIENCE_S = 30.0  # an upper bound for slow CI machines, never a speed requirement


def make_app(data_dir: Path) -> ControlCenter:
    # No liveness timer: every refresh in these tests comes from a file event or an action.
    return ControlCenter(LocalBackend(data_dir), liveness_refresh_s=None)


Scenario = Callable[[ControlCenter, Pilot[None]], Awaitable[None]]


def drive(data_dir: Path, scenario: Scenario) -> None:
    drive_app(lambda: make_app(data_dir), scenario)


def drive_app(make: Callable[[], ControlCenter], scenario: Scenario) -> None:
    async def main() -> None:
        app = make()
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.frame is not None and app.watching, "the first frame and the watch")
            await scenario(app, pilot)

    asyncio.run(main())


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)


def panel(app: ControlCenter, name: str) -> str:
    content = app.main.query_one(f"#{name}", Static).content
    return content.plain if isinstance(content, Text) else str(content)


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])
