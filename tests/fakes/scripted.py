"""A scripted exchange at ccxt's HTTP layer: replies chosen by the URL path's ending,
every request kept (method, path, parameters) so tests can count them by endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from requests.adapters import BaseAdapter

from tests.fakes.transport import body_of, url_of

# A reply: a JSON-able body (HTTP 200), (status, body), an exception class to raise, or a
# callable taking (parameters, HTTP method). A list of replies is played in order, the last repeats.
Reply = Any


class Scripted(BaseAdapter):
    def __init__(self, routes: Mapping[str, Reply]) -> None:
        super().__init__()
        self.routes = dict(routes)
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        url = urlparse(url_of(request))
        body = body_of(request)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        if body:
            try:
                params.update({str(k): str(v) for k, v in json.loads(body).items()})
            except ValueError:
                params.update({k: v[0] for k, v in parse_qs(body).items()})
        method = request.method or "GET"
        self.requests.append((method, url.path, params))
        key = next((k for k in sorted(self.routes, key=len, reverse=True) if url.path.endswith(k)), None)
        if key is None:
            raise AssertionError(f"no scripted reply for {method} {url.path}")
        reply = self.routes[key]
        if isinstance(reply, list):
            reply = reply.pop(0) if len(reply) > 1 else reply[0]
        if isinstance(reply, type) and issubclass(reply, BaseException):
            raise reply(f"simulated {reply.__name__} for {url.path}")
        if callable(reply):
            reply = reply(params, method)
        status, payload = reply if isinstance(reply, tuple) else (200, reply)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if status == 200 else "Error"
        return response

    def close(self) -> None:
        pass

    def calls(self, path_end: str) -> list[dict[str, str]]:
        return [p for _, path, p in self.requests if path.endswith(path_end)]


def scripted_client(factory: Callable[..., Any], routes: Mapping[str, Reply], **options: Any) -> tuple[Any, Scripted]:
    client = factory({"apiKey": "test-key", "secret": "dGVzdC1zZWNyZXQ=", "enableRateLimit": False, **options})
    adapter = Scripted(routes)
    client.session.mount("https://", adapter)
    return client, adapter
