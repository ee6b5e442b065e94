"""Every foreseeable failure becomes a typed JSON error ``{"error": {code, message, fix,
action}}`` (the CLI's ``--json`` error shape, plus the fix as a ``FixAction`` code that
the web shows as a button to press), never a 500:

    SafetyRefusal -> 409   StorageProblem -> 503   UsageProblem, bad input -> 422
    no or wrong token -> 401   role too low -> 403   too many failed sign-ins -> 429"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from nija.api.schemas import ErrorOut
from nija.domain.actions import FixAction
from nija.domain.errors import NijaError, SafetyRefusal, StorageProblem, UsageProblem
from nija.domain.text import printable


class ApiError(Exception):
    """An HTTP-level refusal (authentication, authorization, rate limit)."""

    def __init__(self, status: int, code: str, message: str, fix: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fix = status, code, message, fix
        self.headers = headers or {}


def status_for(exc: NijaError) -> int:
    if isinstance(exc, SafetyRefusal):
        return 409
    if isinstance(exc, StorageProblem):
        return 503
    if isinstance(exc, UsageProblem):
        return 422
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    fix: str,
    headers: dict[str, str] | None = None,
    action: FixAction | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "fix": fix, "action": action}}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    async def on_nija(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, NijaError)
        return error_response(status_for(exc), exc.code, exc.message, exc.fix, action=exc.action)

    async def on_api(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.fix, exc.headers)

    async def on_invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # A field name is the client's text: escaped, it cannot repaint whoever reads the error.
        problems = printable("; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()))
        return error_response(422, "INVALID_INPUT", f"Invalid request: {problems}", "Correct the named fields")

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 400:  # an unparseable body is bad input like any other
            return error_response(422, "INVALID_INPUT", f"Invalid request: {exc.detail}", "Send a valid JSON body")
        return error_response(exc.status_code, f"HTTP_{exc.status_code}", str(exc.detail), "", dict(exc.headers or {}))

    app.add_exception_handler(NijaError, on_nija)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(ApiError, on_api)
    app.add_exception_handler(RequestValidationError, on_invalid)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: _error("No token, or a wrong or revoked token"),
    429: _error("Too many failed sign-ins"),
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {**UNAUTHORIZED, 503: _error("Storage unavailable")}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    403: _error("The token's role may not do this"),
    409: _error("Refused by a safety rule (the code says which)"),
    422: _error("Invalid input"),
}
