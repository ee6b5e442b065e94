"""A real HTTP receiver on 127.0.0.1 for apprise's ``json://`` notifications."""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, *, hold: bool = False, on_arrival: Callable[[], dict[str, Any]] | None = None) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.arrived = threading.Event()  # a request is in (and held, if hold)
        self.release = threading.Event()  # let held requests answer
        self.answered = 0
        self.hold = hold
        self.on_arrival = on_arrival  # extra facts observed when a request arrives
        self.port = 0

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if receiver.on_arrival is not None:
                body["observed"] = receiver.on_arrival()
            receiver.messages.put(body)
            receiver.arrived.set()
            if receiver.hold:
                receiver.release.wait(timeout=120)
            self.send_response(200)
            self.end_headers()
            receiver.answered += 1

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (a receiver that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
