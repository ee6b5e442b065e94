"""A real ``nija serve`` process on a free loopback port, for event-stream, browser and
benchmark runs (the API tests use the in-process test client)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIJA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(NO_COLOR="1", PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


def make_token(data_dir: Path, name: str, role: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "nija", "token", "create", name, "--role", role, "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    return str(json.loads(out.stdout)["token"])


@contextlib.contextmanager
def serving(data_dir: Path, *, env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[str]:
    """Start ``nija serve`` against ``data_dir``; yield its base URL; stop it on exit."""
    port = free_port()
    out = open(log or data_dir.parent / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "nija", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=child_env(**(env or {})),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nija serve exited with {proc.returncode}: {Path(out.name).read_text()}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nija serve did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


# Longer than any wait a loaded machine needs, far shorter than the suite's 300 s timeout.
STREAM_DEADLINE_S = 60.0


def events(response: httpx.Response, *, within_s: float = STREAM_DEADLINE_S) -> Iterator[tuple[str, dict[str, object]]]:
    """Parse server-sent events from a streaming response, for at most ``within_s`` seconds.

    The server's keep-alive pings arrive every 15 s, so a stream whose awaited event never
    comes (or that the server never ends) would otherwise wait until the suite's timeout:
    past the deadline it fails at the next line, saying so."""
    deadline = time.monotonic() + within_s
    name, data = "message", []
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"event stream: what the test waits for did not happen within {within_s:g} s "
                "(an awaited event never came, or the server never ended the stream)"
            )
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield name, json.loads("\n".join(data))
            name, data = "message", []
