"""Bearer-token authentication and the role matrix.

any role   read, and activate the kill switch (stopping must never wait on rights)
operator   also restore, reset, request and cancel live trading
admin      also deactivate the kill switch and confirm live trading"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from fastapi import Request

from nija.api.errors import ApiError
from nija.api.ratelimit import FailureLimiter
from nija.api.tokens import Role, TokenFile, TokenRecord
from nija.domain.errors import StorageProblem
from nija.domain.transitions import Who

SOURCE = "api"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role

    @property
    def who(self) -> Who:
        return Who(actor=self.name, source=SOURCE, principal=f"token:{self.name}")


@dataclass
class Authenticator:
    tokens: TokenFile
    limiter: FailureLimiter

    def authenticate(self, request: Request) -> Principal:
        client = request.client.host if request.client else "unknown"
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "NOT_AUTHENTICATED",
                "No API token: send 'Authorization: Bearer <token>'",
                "Create a token with 'nija token create NAME --role viewer|operator|admin'",
                {"WWW-Authenticate": "Bearer"},
            )
        record = self._verify(token.strip())
        if record is not None:
            # A valid token always passes: guesses from a shared address (a proxy, loopback)
            # must never lock out the operators behind it, least of all from the kill switch.
            # Tokens are 256 random bits, so answering a guess 429 rather than 401 tells nothing.
            return Principal(record.name, record.role)
        wait = self.limiter.retry_after(client)
        if wait > 0:
            raise ApiError(
                429,
                "TOO_MANY_FAILED_SIGN_INS",
                "Too many failed authentications from this address",
                f"Wait {math.ceil(wait)} seconds and check the token",
                {"Retry-After": str(math.ceil(wait))},
            )
        self.limiter.fail(client)
        raise ApiError(
            401,
            "INVALID_TOKEN",
            "The API token is wrong or has been revoked",
            "Check the token, or create a new one with 'nija token create'",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    def _verify(self, token: str) -> TokenRecord | None:
        try:
            return self.tokens.verify(token)
        except StorageProblem as exc:
            # The caller is not authenticated: the token file's path and mode are for the
            # operator reading the server log, not for whoever sent the request.
            structlog.get_logger("nija.api").error(
                "token store unavailable", code=exc.code, problem=exc.message, fix=exc.fix
            )
            raise ApiError(
                503,
                "TOKEN_STORE_UNAVAILABLE",
                "Token store unavailable; see the server log",
                "The server's operator must repair the token store (the server log says how)",
            ) from exc


def requires(role: Role) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the caller's principal, refused unless its role is at least ``role``."""

    def dependency(request: Request) -> Principal:
        auth: Authenticator = request.app.state.auth
        principal = auth.authenticate(request)
        if not principal.role.at_least(role):
            raise ApiError(
                403,
                "FORBIDDEN",
                f"The {principal.role} token {principal.name!r} may not do this: it needs the {role} role",
                f"Ask someone with a {role} token, or create one with 'nija token create NAME --role {role}'",
            )
        return principal

    return dependency
