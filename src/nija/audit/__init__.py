"""The tamper-evident audit trail: a hash-chained JSON-lines log of every safety event."""

from __future__ import annotations

from nija.audit.chain import AuditRecord, BadLine
from nija.audit.errors import AuditChainBroken, AuditWriteFailed
from nija.audit.log import HEAD_FILE, LOG_FILE, AuditLog
from nija.audit.verify import Head, Problem, Verdict, records, verify

__all__ = [
    "HEAD_FILE",
    "LOG_FILE",
    "AuditChainBroken",
    "AuditLog",
    "AuditRecord",
    "AuditWriteFailed",
    "BadLine",
    "Head",
    "Problem",
    "Verdict",
    "records",
    "verify",
]
