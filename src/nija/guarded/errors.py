"""What a guarded bot sees when NIJA says no: ccxt exceptions, so that the bot's own
``except ccxt.ExchangeError`` (or ``ccxt.BaseError``) handling keeps working.

    ccxt.ExchangeError
    ├── ccxt.OperationRejected
    │   └── OrderRefused          an order NIJA's permission check or a pre-trade control denied
    └── ccxt.PermissionDenied
        └── MethodRefused         a method the guard cannot decide safely (funds, margin,
                                  raw endpoints, order methods not on the allow-list)

Both carry NIJA's stable ``code``, the ``reason`` in words and the exit code a CLI
would return for them (3: refused by a safety rule)."""

from __future__ import annotations

from enum import StrEnum

import ccxt


class GuardCode(StrEnum):
    """Codes the guard adds to the permission check's own (KILL_SWITCH_ACTIVE, STATE_OFF, ...)."""

    NOT_ON_ALLOW_LIST = "NOT_ON_ALLOW_LIST"  # an order-placing method the guard does not know
    LIVE_ONLY = "LIVE_ONLY"  # funds-moving or raw endpoint, outside a verified LIVE_ACTIVE
    PAPER_UNSUPPORTED = "PAPER_UNSUPPORTED"  # DRY_RUN cannot simulate this order kind
    BAD_ORDER = "BAD_ORDER"  # the arguments cannot describe an order (amount <= 0, no price)
    GUARD_CLOSED = "GUARD_CLOSED"  # the guard was closed: it decides nothing any more
    NOT_OWN_ORDER = "NOT_OWN_ORDER"  # a cancel or edit of an order not placed through this guard
    ORDER_ID_IN_PARAMS = "ORDER_ID_IN_PARAMS"  # params that would redirect a call to another order
    CANCEL_UNCHECKED = "CANCEL_UNCHECKED"  # a cancel whose orders the guard cannot check are the bot's
    ACCOUNT_WIDE_TIMER = "ACCOUNT_WIDE_TIMER"  # arming the exchange's cancel-all timer (dead man's switch)


class _Refusal:
    exit_code = 3

    def _init(self, code: str, reason: str) -> str:
        self.code = code
        self.reason = reason
        return f"NIJA refused ({code}): {reason}"


class OrderRefused(_Refusal, ccxt.OperationRejected):  # type: ignore[misc]  # ccxt is untyped
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(self._init(code, reason))


class MethodRefused(_Refusal, ccxt.PermissionDenied):  # type: ignore[misc]  # ccxt is untyped
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(self._init(code, reason))
