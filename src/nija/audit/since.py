"""Parse ``--since``: an ISO 8601 time or date (UTC when no offset), or an age like 90m, 12h, 7d."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from nija.domain.errors import UsageProblem

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    age = _AGE.match(text)
    if age is not None:
        return now - timedelta(**{_UNITS[age.group(2)]: float(age.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageProblem(
            f"--since {text!r} is neither a time nor an age",
            "Use an ISO 8601 time such as 2026-02-17T22:00:00+00:00 or 2026-02-17, or an age such as 30m, 12h or 7d",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
