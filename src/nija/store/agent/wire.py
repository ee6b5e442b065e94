"""What the host agent and its bots say to each other: one JSON object per line.

A bot opens the agent's Unix socket and sends one request line:

- ``{"op": "watch", "bot": NAME}``: the agent then pushes ``Update`` lines for that bot
  until either side closes: every re-read (at least every ``stale_after / 4``) and a
  ``kill`` line the moment a kill notification concerns the bot;
- ``{"op": "beat", "bot": NAME, "heartbeat": {...}}``: the agent accepts the beat and
  answers ``{"ok": true}`` (written with its next re-read, at most ``stale_after / 4``
  later, all its bots' beats in one commit) or ``{"ok": false, "error": ...}`` when it
  has no confirmed database connection;
- ``{"op": "report", "bot": NAME, "account": A, "day": "YYYY-MM-DD", "figures": {...},
  "now": ISO}``: a live bot's account report; the agent writes it with the others that
  arrive within ``REPORT_WAIT_S`` (one commit, each report's sum taken in it after its own
  figures, as in the bot's own transaction) and answers, after the commit, ``{"ok": true,
  "account": {...}}`` (the account's figures summed by the database) or ``{"ok": false,
  "error": ...}`` (``"refused"`` with ``"code"`` and ``"fix"`` for a safety refusal).

``confirmed`` is the agent's CLOCK_MONOTONIC time when the database last confirmed the
row (the clock every process of a host shares), so a bot ages its view exactly as a
view with its own connection would; ``null`` says the agent cannot confirm anything."""

from __future__ import annotations

import json
import os
import socket
import struct
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from nija.domain.account_risk import AccountFigures, AccountLimits, BotFigures
from nija.domain.records import Heartbeat

MAX_LINE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Update:
    seq: int
    confirmed: float | None  # CLOCK_MONOTONIC of the confirming read; None: not confirmed
    problem: str
    row: tuple[object, ...] | None  # the bot's permission row (view.PERMISSION_SQL), decoded
    kill: bool = False  # a kill notification arrived: deny now, the row follows


def _value(v: object) -> object:
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, Decimal):
        return {"$dec": str(v)}
    return v


def _back(v: object) -> object:
    if isinstance(v, dict) and len(v) == 1:
        if "$dt" in v:
            return datetime.fromisoformat(str(v["$dt"]))
        if "$dec" in v:
            return Decimal(str(v["$dec"]))
    return v


def encode_update(update: Update) -> bytes:
    doc: dict[str, Any] = {"seq": update.seq, "confirmed": update.confirmed, "problem": update.problem}
    if update.row is not None:
        doc["row"] = [_value(v) for v in update.row]
    if update.kill:
        doc["kill"] = True
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


def decode_update(line: bytes) -> Update:
    """Raises ValueError for anything that is not an update (the bot then fails closed)."""
    doc = json.loads(line)
    if not isinstance(doc, dict) or not isinstance(doc.get("seq"), int):
        raise ValueError("not an agent update")
    confirmed = doc.get("confirmed")
    if confirmed is not None and not isinstance(confirmed, int | float):
        raise ValueError("bad confirmation time")
    raw = doc.get("row")
    if raw is not None and not isinstance(raw, list):
        raise ValueError("bad row")
    row = None if raw is None else tuple(_back(v) for v in raw)
    return Update(
        doc["seq"],
        None if confirmed is None else float(confirmed),
        str(doc.get("problem", "")),
        row,
        doc.get("kill") is True,
    )


def beat_request(bot: str, beat: Heartbeat) -> bytes:
    body = {
        "pid": beat.pid,
        "host": beat.host,
        "last_beat": beat.last_beat.isoformat(),
        "started_at": beat.started_at.isoformat(),
        "stopped": beat.stopped,
        "run_id": beat.run_id,
        "dry_run_s": beat.dry_run_s,
        "seen_nonce": beat.seen_nonce,
        "live_nonce": beat.live_nonce,
        "live_refused": beat.live_refused,
    }
    return json.dumps({"op": "beat", "bot": bot, "heartbeat": body}).encode() + b"\n"


def heartbeat_from(doc: object) -> Heartbeat:
    if not isinstance(doc, dict):
        raise ValueError("heartbeat must be an object")
    return Heartbeat(
        int(doc["pid"]),
        str(doc["host"]),
        datetime.fromisoformat(str(doc["last_beat"])),
        datetime.fromisoformat(str(doc["started_at"])),
        stopped=bool(doc["stopped"]),
        run_id=str(doc["run_id"]),
        dry_run_s=float(doc["dry_run_s"]),
        seen_nonce=str(doc["seen_nonce"]),
        live_nonce=str(doc["live_nonce"]),
        live_refused=str(doc["live_refused"]),
    )


def watch_request(bot: str) -> bytes:
    return json.dumps({"op": "watch", "bot": bot}).encode() + b"\n"


def peer_uid(sock: socket.socket) -> int:
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return int(uid)


def trusted(uid: int) -> bool:
    """Only the agent's own user (or root) may read its bots' views or write their beats."""
    return uid in (0, os.getuid())


@dataclass(frozen=True, slots=True)
class Report:
    bot: str
    account: str
    day: date
    figures: dict[str, float | None]
    now: datetime


def report_request(report: Report) -> bytes:
    doc = {
        "op": "report",
        "bot": report.bot,
        "account": report.account,
        "day": report.day.isoformat(),
        "figures": report.figures,
        "now": report.now.isoformat(),
    }
    return json.dumps(doc).encode() + b"\n"


def report_from(bot: str, doc: dict[str, Any]) -> Report:
    figures = doc["figures"]
    if not isinstance(figures, dict) or not all(isinstance(k, str) for k in figures):
        raise ValueError("figures must be an object")
    clean = {
        k: (float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None) for k, v in figures.items()
    }
    account = doc["account"]
    if not isinstance(account, str) or not account:
        raise ValueError("account must be a name")
    now = datetime.fromisoformat(str(doc["now"]))
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    return Report(bot, account, date.fromisoformat(str(doc["day"])), clean, now)


def figures_doc(figures: AccountFigures) -> dict[str, Any]:
    return {
        "account": figures.account,
        "day": figures.day,
        "limits": [figures.limits.daily_loss, figures.limits.gross_exposure],
        "bots": [[b.bot, b.daily_loss, b.gross_exposure] for b in figures.bots],
        "daily_loss": figures.daily_loss,
        "gross_exposure": figures.gross_exposure,
    }


def figures_from(doc: object) -> AccountFigures:
    """Raises ValueError/KeyError/TypeError for anything else (the report then failed)."""
    if not isinstance(doc, dict):
        raise ValueError("account figures must be an object")
    loss_limit, exposure_limit = doc["limits"]
    bots = tuple(BotFigures(str(b), _figure(loss), _figure(exposure)) for b, loss, exposure in doc["bots"])
    return AccountFigures(
        str(doc["account"]),
        str(doc["day"]),
        AccountLimits(_figure(loss_limit), _figure(exposure_limit)),
        bots,
        float(doc["daily_loss"]),
        float(doc["gross_exposure"]),
    )


def _figure(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a figure: {value!r}")
    return float(value)
