"""``nija serve`` on a busy port: a clear error and exit 4, never the success banner first."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import Run


def test_a_busy_port_is_a_clear_error_with_exit_4_and_no_success_line(run: Run, data_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = run("nija", "serve", "--port", str(port), "--data-dir", str(data_dir), timeout=60)
    assert result.returncode == 4, result.stderr
    assert "already in use" in result.stderr
    assert "--port" in result.stderr  # the fix
    assert "control center on" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
