"""The tamper-evident audit trail: a hash-chained JSON-lines log of every safety event.

Nothing loads here eagerly: the service only needs ``audit.changes`` to build events,
and a plain ``status`` must not pay for the verifier. The names below load on first use
(the function ``verify``: from ``nija.audit.verify``, whose module name it shares)."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nija.audit.chain import AuditRecord, BadLine, Head
    from nija.audit.errors import AuditChainBroken, AuditWriteFailed
    from nija.audit.log import HEAD_FILE, LOG_FILE, AuditLog
    from nija.audit.verify import Problem, Verdict, records

_LAZY = {
    "AuditRecord": "chain",
    "BadLine": "chain",
    "AuditChainBroken": "errors",
    "AuditWriteFailed": "errors",
    "HEAD_FILE": "log",
    "LOG_FILE": "log",
    "AuditLog": "log",
    "Head": "chain",
    "Problem": "verify",
    "Verdict": "verify",
    "records": "verify",
}

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
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f"nija.audit.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'nija.audit' has no attribute {name!r}")
