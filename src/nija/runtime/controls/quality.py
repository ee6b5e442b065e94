"""Data quality: an input a control or a kill trigger cannot compute with (NaN, infinite
or negative equity, a fill without a usable price) must not disable that check. It is
reported here instead; while any problem stands, new orders are denied (DATA_QUALITY).

A problem has a scope (``equity``, ``fill``, ...). A later good input of the same scope
clears it (``good``); some scopes are cleared by nothing but a restart (the caller
simply never calls ``good`` for them)."""

from __future__ import annotations

from collections.abc import Callable

Alert = Callable[[str, str], None]  # (code, message)


class DataQuality:
    __slots__ = ("_on_alert", "_problems", "alerts")

    def __init__(self, on_alert: Alert | None = None) -> None:
        self._on_alert = on_alert
        self._problems: dict[str, str] = {}
        self.alerts = 0  # problems raised (a standing problem repeated counts once)

    def bad(self, scope: str, problem: str) -> None:
        if self._problems.get(scope) == problem:
            return
        self._problems[scope] = problem
        self.alerts += 1
        if self._on_alert is not None:
            self._on_alert("DATA_QUALITY", f"{problem}: new orders are denied until it is resolved")

    def good(self, scope: str) -> None:
        self._problems.pop(scope, None)

    @property
    def problems(self) -> dict[str, str]:
        return dict(self._problems)

    def first_problem(self) -> str | None:
        if not self._problems:
            return None
        return next(iter(self._problems.values()))
