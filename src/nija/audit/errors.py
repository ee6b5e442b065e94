"""Audit failures, placed in the shared exception tree (``nija.domain.errors``)."""

from __future__ import annotations

from nija.domain.codes import ErrorCode
from nija.domain.errors import InconsistenciesFound, StorageProblem


class AuditWriteFailed(StorageProblem):
    """An audit record could not be written (exit 4). The action it records still happened."""

    code = ErrorCode.AUDIT_WRITE_FAILED


class AuditChainBroken(InconsistenciesFound):
    """``nija audit verify`` found an edited, removed, inserted or reordered record (exit 5)."""

    code = ErrorCode.AUDIT_CHAIN_BROKEN


class AuditIncomplete(InconsistenciesFound):
    """``nija audit verify`` found a committed change without its audit record (exit 5)."""

    code = ErrorCode.AUDIT_INCOMPLETE
