"""What the fake exchanges read from a request requests prepared, typed for them."""

from __future__ import annotations

import requests


def url_of(request: requests.PreparedRequest) -> str:
    return request.url or ""


def body_of(request: requests.PreparedRequest) -> str:
    body = request.body
    if isinstance(body, bytes):
        return body.decode()
    return body if isinstance(body, str) else ""
