"""`dagster dev` (webserver + daemon) started by a test or a benchmark, on a free port, stopped by its process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCATION = "medrobotics_dagster.definitions"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DagsterDev:
    """`dagster dev` in its own process group; stopping it signals only that group."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_until_serving(self, client, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/server_info", timeout=2).read()
                result = client._execute(
                    "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
                )
                entries = result["workspaceOrError"]["locationEntries"]
                if any(e["name"] == LOCATION and e["loadStatus"] == "LOADED" for e in entries):
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(1)
        raise TimeoutError(f"dagster dev did not serve {LOCATION} within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # children left in the group (daemon, code server)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=15)
        self.log.close()
