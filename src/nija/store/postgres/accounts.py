"""Accounts in the fleet database: which bot trades which exchange account, the account's
limits, the bots' reports, and the account's figures summed by the database."""

from __future__ import annotations

import math
from datetime import date, datetime

from psycopg.types.json import Jsonb

from nija.domain.account_risk import AccountFigures, AccountLimits, BotFigures
from nija.domain.codes import ErrorCode
from nija.domain.errors import SafetyRefusal
from nija.store.postgres import rows
from nija.store.postgres.connect import Conn

# Per bot, each figure only when the report holds a JSON number there (else NULL: unreadable);
# the sums over the account are the database's, of the readable figures. Every bot's last
# report counts: its exposure whatever the day (positions do not close at midnight), its
# loss only from a report of ``day`` (an earlier one: it has not traded today, 0).
_FIGURES_SQL = """
SELECT r.scope, l.loss, l.exposure,
       coalesce(sum(l.loss) OVER (), 0), coalesce(sum(l.exposure) OVER (), 0)
FROM nija_scope s
JOIN nija_bot_report r ON r.scope = s.name
CROSS JOIN LATERAL (SELECT
    CASE WHEN r.day <> %(day)s THEN 0::float8
         WHEN jsonb_typeof(r.figures -> 'daily_loss') = 'number' THEN (r.figures ->> 'daily_loss')::float8 END AS loss,
    CASE WHEN jsonb_typeof(r.figures -> 'gross_exposure') = 'number'
         THEN (r.figures ->> 'gross_exposure')::float8 END AS exposure) l
WHERE s.account = %(account)s AND r.account = %(account)s
ORDER BY r.scope
"""


def declare(conn: Conn, scope: str, account: str) -> bool:
    """Record that bot ``scope`` trades ``account``; True when it changed. A bot never leaves
    an account whose kill is active (that would lift the kill for it)."""
    rows.ensure_scope(conn, scope)
    before = rows.bot_account(conn, scope)
    if before == account:
        return False
    if before is not None and rows.account_killed(conn, before, share_lock=True):
        raise SafetyRefusal(
            f"Bot {scope} trades account {before}, whose kill switch is active: it cannot move to account "
            f"{account} under it; nothing was done",
            f'Deactivate the account kill first: nija kill deactivate --account {before} "<reason>"',
            code=ErrorCode.ACCOUNT_KILL_ACTIVE,
        )
    conn.execute("UPDATE nija_scope SET account = %s WHERE name = %s", (account, scope))
    return True


def put_report(
    conn: Conn, scope: str, account: str, day: date, figures: dict[str, float | None], now: datetime
) -> None:
    """The bot's latest figures for ``day``; a non-finite figure is stored as null (unreadable)."""
    clean = {k: (v if isinstance(v, int | float) and math.isfinite(v) else None) for k, v in figures.items()}
    conn.execute(
        "INSERT INTO nija_bot_report (scope, account, day, figures, reported_at) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (scope) DO UPDATE SET account = excluded.account, day = excluded.day, "
        "figures = excluded.figures, reported_at = excluded.reported_at",
        (scope, account, day, Jsonb(clean), now),
    )


def limits(conn: Conn, account: str) -> AccountLimits:
    row = conn.execute(
        "SELECT daily_loss_limit, gross_exposure_limit FROM nija_account WHERE name = %s", (account,)
    ).fetchone()
    if row is None:
        return AccountLimits()
    return AccountLimits(_number(row[0]), _number(row[1]))


def set_limits(
    conn: Conn, account: str, daily_loss: float | None, gross_exposure: float | None, actor: str, now: datetime
) -> None:
    conn.execute(
        "INSERT INTO nija_account (name, daily_loss_limit, gross_exposure_limit, updated_at, updated_by) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET daily_loss_limit = excluded.daily_loss_limit, "
        "gross_exposure_limit = excluded.gross_exposure_limit, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        (account, daily_loss, gross_exposure, now, actor),
    )


def figures(conn: Conn, account: str, day: date) -> AccountFigures:
    found = conn.execute(_FIGURES_SQL, {"account": account, "day": day}).fetchall()
    bots = tuple(BotFigures(str(r[0]), _number(r[1]), _number(r[2])) for r in found)
    loss = _number(found[0][3]) if found else 0.0
    exposure = _number(found[0][4]) if found else 0.0
    return AccountFigures(account, day.isoformat(), limits(conn, account), bots, loss or 0.0, exposure or 0.0)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
