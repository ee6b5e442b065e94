"""The heartbeat every bot run beats (``nija run``, a guard, the original bot): the same
fields, from the run's own verifier. Light on purpose: the original bot imports it at start."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from nija.domain.live_auth import LiveVerifier
from nija.domain.records import Heartbeat
from nija.runtime.dry_run import DryRunClock


def process_heartbeat(verifier: LiveVerifier, started: datetime, dry_run: DryRunClock, *, stopped: bool) -> Heartbeat:
    """This process's heartbeat for its run: every bot run (``nija run``, a guard, the
    original bot) beats the same fields, from its own verifier."""
    return Heartbeat(
        os.getpid(),
        socket.gethostname(),
        datetime.now(UTC),
        started,
        stopped=stopped,
        run_id=verifier.run_id,
        dry_run_s=dry_run.seconds,
        seen_nonce=verifier.seen_nonce,
        live_nonce=verifier.live_nonce,
        live_refused=verifier.refused,
    )
