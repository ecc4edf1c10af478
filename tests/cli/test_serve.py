"""`newsletter serve` where it cannot listen: one line, exit 1, nothing started."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.conftest import newsletter_process


def test_serve_on_a_busy_port_is_one_line_and_exit_1(workspace: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = newsletter_process(
            workspace,
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = process.communicate(timeout=60)

    assert process.returncode == 1
    assert out == ""
    assert err == (
        f"Error: port {port} on 127.0.0.1 is in use (another serve, or another program): "
        "stop it, or choose another port with --port or web.port\n"
    )
    assert not (workspace / "newsletter.db").exists()
