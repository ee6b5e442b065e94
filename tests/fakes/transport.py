"""What the fake exchanges share at requests' transport layer: the one ``send`` they
override, typed, what they read from a prepared request, and the JSON response they build."""

from __future__ import annotations

import requests
from requests.adapters import BaseAdapter


def url_of(request: requests.PreparedRequest) -> str:
    return request.url or ""


def body_of(request: requests.PreparedRequest) -> str:
    body = request.body
    if isinstance(body, bytes):
        return body.decode()
    return body if isinstance(body, str) else ""


class FakeTransport(BaseAdapter):
    """A transport adapter that answers in-process: requests' whole ``send`` signature
    once, the answer from ``answer`` (a subclass's)."""

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return self.answer(request)

    def answer(self, request: requests.PreparedRequest) -> requests.Response:
        raise NotImplementedError


def json_response(
    request: requests.PreparedRequest, content: bytes, status: int = 200, reason: str = "OK"
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.headers["Content-Type"] = "application/json"
    response.url = request.url or ""
    response.request = request
    response.reason = reason
    return response
