"""The host agent's account reports: the live bots' reports that arrive together, one commit.

Each report is exactly what ``PostgresStore.report_account`` does in the bot's own
transaction (declare the account, store the figures, sum the account after them), here
in a savepoint of the batch's one transaction: one bot's refusal leaves the others'
reports, and each sum sees the batch's earlier reports as it would have seen them had
they committed just before. The bots are answered only after the commit."""

from __future__ import annotations

import psycopg

from nija.domain.errors import SafetyRefusal
from nija.store.agent import wire
from nija.store.postgres import accounts
from nija.store.postgres.connect import Conn

REPORT_WAIT_S = 0.05  # how long a report waits for others to share its commit


def write_reports(conn: Conn, batch: list[wire.Report]) -> tuple[list[dict[str, object]], str]:
    """One reply per report, in order, and the failure that rolled the whole batch back
    ("" when it committed: then only the replies that say so were not written)."""
    try:
        return _write(conn, batch), ""
    except psycopg.Error as exc:
        text = str(exc).strip()
        failure = text.splitlines()[0] if text else type(exc).__name__
        return [{"ok": False, "error": f"the account report was not written: {failure}"}] * len(batch), failure


def _write(conn: Conn, batch: list[wire.Report]) -> list[dict[str, object]]:
    replies: list[dict[str, object]] = []
    with conn.transaction():
        for report in batch:
            try:
                with conn.transaction():
                    accounts.declare(conn, report.bot, report.account)
                    accounts.put_report(conn, report.bot, report.account, report.day, report.figures, report.now)
                    totals = accounts.figures(conn, report.account, report.day)
            except SafetyRefusal as exc:
                replies.append(
                    {"ok": False, "refused": True, "code": str(exc.code), "error": exc.message, "fix": exc.fix}
                )
                continue
            except psycopg.Error as exc:
                if conn.broken or isinstance(exc, psycopg.OperationalError):
                    raise
                replies.append({"ok": False, "error": f"the report of bot {report.bot} was not written: {exc}"})
                continue
            replies.append({"ok": True, "account": wire.figures_doc(totals)})
    return replies
