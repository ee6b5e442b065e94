"""Live authorization bound to the running bot (DESIGN.md invariant 7).

A live request names the bot's run and a fresh nonce, and stores only a commitment to
the one-time code. A confirmation leaves a ``LiveGrant``: the run, the nonce and a proof
derived from the code. The running bot's ``LiveVerifier`` accepts LIVE_ACTIVE only for
its own run, for a request it saw pending while it ran, whose commitment (remembered
from that sighting) the proof opens, and only once: when the bot sees the record leave
that LIVE_ACTIVE, the nonce is spent. The verifier's memory never touches the disk, so a
record from another time, directory, run or backup cannot pass; nor can a hand edit by
someone who did not receive the code.

Pure: hashing only. Randomness (codes, nonces, run ids) comes from the callers."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from nija.domain.records import TradingRecord
from nija.domain.states import TradingState

CODE_BYTES = 10  # 80 bits: the issue asks for at least 64
MAX_WRONG_CODES = 5


class LiveRefusal:
    """Why a LIVE_ACTIVE cannot be verified (the detail of ``LIVE_NOT_VERIFIED``)."""

    NO_GRANT = "the LIVE_ACTIVE record carries no confirmation"
    OTHER_RUN = "the confirmation was made for another bot run (a copy from another time, directory or bot)"
    NEVER_SEEN = "this bot never saw that live request pending while it was running"
    SPENT = "that confirmation was already used and ended; a restored copy cannot pass again"
    BAD_PROOF = "the confirmation does not prove knowledge of the request's one-time code"
    NOT_CONFIRMED = "LIVE_ACTIVE was not reached by a live confirmation"


KNOWN_REFUSALS = frozenset(
    value for name, value in vars(LiveRefusal).items() if name.isupper() and isinstance(value, str)
)


def normalize_code(code: str) -> str:
    """Codes are shown grouped (``ABCD-EFGH-...``); spaces, dashes and case do not matter."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def proof(nonce: str, code: str) -> str:
    """What a confirmation stores: useless for any other request (the nonce is mixed in)."""
    text = f"nija-live-proof\0{nonce}\0{normalize_code(code)}"
    import hashlib  # OpenSSL loads only for a live request, not for every status

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def commitment(proof_hex: str) -> str:
    """What a request stores: the proof's hash, so the code is never on disk."""
    import hashlib

    return hashlib.sha256(f"nija-live-commit\0{proof_hex}".encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time equality for any text a file may hold (compare_digest refuses non-ASCII str)."""
    import hmac  # OpenSSL loads only for a live confirmation

    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def opens(commitment_hex: str, proof_hex: str) -> bool:
    return bool(commitment_hex) and same(commitment(proof_hex), commitment_hex)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a trading record this bot read may stand (LIVE_ACTIVE only with a grant it
    verifies), and if not, why."""

    ok: bool
    detail: str = ""


class LiveVerifier:
    """The running bot's memory of the live request it saw; thread-safe.

    Every read of the stored state passes through ``observe`` (or ``interrupt`` when the
    reader saw a kill or failed). A confirmation can only follow its request directly,
    so the verifier keeps one candidate: the pending request for this run it saw last.
    Seeing anything but that request or its LIVE_ACTIVE ends it for good (spent), and
    so does leaving the LIVE_ACTIVE. ``generation`` changes whenever the answer may
    change, so a permission view that caches decisions can key its cache on it."""

    def __init__(self, run_id: str) -> None:
        if len(run_id) < 16:
            raise ValueError("a run id must be long and random")
        self.run_id = run_id
        self._lock = threading.Lock()
        # Readers hold this around "read the record, then observe it", so observations
        # arrive in the order the reads happened: two threads never replay an older read
        # after a newer one (which would spend a nonce early, or miss that it ended).
        self.reading = threading.RLock()
        self._candidate: tuple[str, str] | None = None  # (nonce, commitment) as first seen
        self._live = False
        self._spent: set[str] = set()
        self._refused = ""
        self.generation = 0

    # -- what the heartbeat publishes ----------------------------------------------
    @property
    def seen_nonce(self) -> str:
        """The acknowledgment: the pending request this run has seen (and may confirm)."""
        candidate = self._candidate
        return candidate[0] if candidate is not None else ""

    @property
    def live_nonce(self) -> str:
        candidate = self._candidate
        return candidate[0] if candidate is not None and self._live else ""

    @property
    def refused(self) -> str:
        return self._refused

    # -- observations -----------------------------------------------------------------
    def observe(self, record: TradingRecord) -> Verdict:
        """Called with every trading record read while the kill switch is inactive."""
        with self._lock:
            state = record.current_state
            if state is TradingState.LIVE_ACTIVE:
                return self._verify(record)
            pending = record.pending_live
            if state is TradingState.LIVE_PENDING_CONFIRMATION and pending is not None:
                self._saw_pending(pending.run_id, pending.nonce, pending.code_hash)
            else:
                self._end()
                if state in (TradingState.DRY_RUN, TradingState.OFF) and self._refused:
                    self._refused = ""  # recovered: the incident is over
                    self._bump()
            return Verdict(True)

    def interrupt(self) -> None:
        """A kill, an unreadable record or a failed read: whatever was pending or live has ended."""
        with self._lock:
            self._end()

    def _saw_pending(self, run_id: str, nonce: str, commit: str) -> None:
        candidate = self._candidate
        if candidate is not None and candidate[0] == nonce and not self._live:
            return  # first sighting wins: a commitment swapped under the same nonce is ignored
        self._end()
        if run_id == self.run_id and nonce and nonce not in self._spent:
            self._candidate = (nonce, commit)
            self._bump()

    def _verify(self, record: TradingRecord) -> Verdict:
        detail = self._problem(record)
        if detail:
            self._end()
            if self._refused != detail:
                self._refused = detail
                self._bump()
            return Verdict(False, detail)
        if not self._live:
            self._live = True
            self._bump()
        return Verdict(True)

    def _problem(self, record: TradingRecord) -> str:
        last = record.history[-1] if record.history else None
        if last is None or (last.from_state, last.to_state) != (
            TradingState.LIVE_PENDING_CONFIRMATION,
            TradingState.LIVE_ACTIVE,
        ):
            return LiveRefusal.NOT_CONFIRMED
        grant = record.live_grant
        if grant is None:
            return LiveRefusal.NO_GRANT
        if not same(grant.run_id, self.run_id):
            return LiveRefusal.OTHER_RUN
        candidate = self._candidate
        if grant.nonce in self._spent:
            return LiveRefusal.SPENT
        if candidate is None or candidate[0] != grant.nonce:
            return LiveRefusal.NEVER_SEEN
        if not opens(candidate[1], grant.proof):
            return LiveRefusal.BAD_PROOF
        return ""

    def _end(self) -> None:
        if self._candidate is not None:
            self._spent.add(self._candidate[0])
            self._candidate = None
            self._live = False
            self._bump()

    def _bump(self) -> None:
        self.generation += 1
